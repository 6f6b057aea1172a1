/**
 * Phase 19 of `npm run bench`: what mutual TLS costs on a remote call. Phase 2's micro-ts
 * pair with both services serving TLS with certificates from one CA (made here, written
 * to a temp directory: bring-your-own files), against the same pair over plain TCP,
 * rounds interleaved; the target is mTLS/plain >= 0.7 at 64 in flight.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CertificateAuthority, issueLocal, KeyEncryption } from 'micro-ts/auth'
import { MemoryStore } from 'micro-ts/store'
import { type RemoteResult, type RemoteSummary, remotePair, runPair, summarizeRounds } from './remote.js'
import { check, remoteTable, type TargetCheck } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { at64, fmtX, ratio } from './targets.js'

export interface TlsConfig {
  tlsCost: { concurrency: number[]; warmupMs: number; durationMs: number; rounds: number }
}

export interface TlsResults {
  tlsCost: RemoteSummary[]
}

const ON = 'micro-ts mTLS'
const OFF = 'micro-ts plain TCP'

export async function runTls(config: TlsConfig, phases: Set<number>): Promise<TlsResults> {
  return { tlsCost: phases.has(19) ? await costPhase(config.tlsCost) : [] }
}

/** The mTLS target, when phase 19 ran. */
export function tlsChecks(results: TlsResults): TargetCheck[] {
  if (results.tlsCost.length === 0) return []
  const cost = ratio(at64(results.tlsCost, ON)?.rps, at64(results.tlsCost, OFF)?.rps)
  return [{ ...check('remote, 64 in flight: mTLS >= 0.7x plain TCP', cost, { min: 0.7 }), phase: 19 }]
}

/** The largest share of a core other processes used in a measured window of phase 19. */
export function tlsNoise(results: TlsResults): Record<string, number> {
  if (results.tlsCost.length === 0) return {}
  const finite = (v: number) => (Number.isFinite(v) ? v : 0)
  return { 'mTLS cost': Math.max(0, ...results.tlsCost.map((r) => finite(r.otherCpu))) }
}

/** A CA and certificates for the server (greeter) and the client (bench-client), as files. */
async function certificates(dir: string, namespace: string): Promise<void> {
  const encryption = KeyEncryption.fromPassphrase('bench passphrase, never used for real')
  const ca = await CertificateAuthority.open({ store: new MemoryStore(), encryption, env: {} })
  await writeFile(join(dir, 'ca.pem'), ca.root)
  for (const name of ['greeter', 'bench-client']) {
    const { material } = issueLocal(ca, namespace, name, { hosts: ['127.0.0.1'] })
    await writeFile(join(dir, `${name}.pem`), material.cert as string)
    await writeFile(join(dir, `${name}.key`), material.key as string, { mode: 0o600 })
  }
}

async function costPhase(c: TlsConfig['tlsCost']): Promise<RemoteSummary[]> {
  console.log(
    `\n19. Cost of mutual TLS: micro-ts remote call with both services on TLS (client certificates, ` +
      `identity checked) and over plain TCP, ${c.concurrency.join(' and ')} in flight, ${c.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 19')
  const rounds: RemoteResult[] = []
  const dirs: string[] = []
  try {
    for (let round = 1; round <= c.rounds; round++) {
      for (const [system, on] of [
        [ON, true],
        [OFF, false],
      ] as const) {
        const result = await attempt(`${system} round ${round}`, async () => {
          const pair = await remotePair('micro-ts')
          if (on) {
            const dir = await mkdtemp(join(tmpdir(), 'micro-bench-tls-'))
            dirs.push(dir)
            await certificates(dir, pair.env.BENCH_NAMESPACE as string)
            pair.env.BENCH_TLS_DIR = dir
          }
          return runPair({ ...pair, system }, c)
        })
        if (result) rounds.push(result)
      }
    }
  } finally {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  }
  const rows = summarizeRounds(rounds)
  console.log(remoteTable(rows))
  for (const level of c.concurrency) {
    const on = rows.find((r) => r.system === ON && r.concurrency === level)
    const off = rows.find((r) => r.system === OFF && r.concurrency === level)
    console.log(`  at ${level} in flight: mTLS/plain ${fmtX(ratio(on?.rps, off?.rps))}`)
  }
  return rows
}
