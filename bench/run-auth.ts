/**
 * Phase 12 of `npm run bench`, run only when BENCH_PHASES names it: what auth costs on a
 * remote call. Phase 2's micro-ts pair with the server enforcing auth (the client's token
 * verified locally, a rule checked, per call) and without (no token sent, no wrapper),
 * rounds interleaved; the target is on/off >= 0.85 at 64 in flight. The token is signed
 * here with a fresh Ed25519 key whose public half the server gets as MICRO_AUTH_PUBLIC_KEY;
 * its account is a service account named as the client (a service calling with its own
 * identity).
 */
import { generateKeyPairSync } from 'node:crypto'
import { parsePublicKeys, signAccessToken } from 'micro-ts/auth'
import { type RemoteResult, type RemoteSummary, remotePair, runPair, summarizeRounds } from './remote.js'
import { check, remoteTable, type TargetCheck } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { at64, fmtX, ratio } from './targets.js'

export interface AuthConfig {
  authCost: { concurrency: number[]; warmupMs: number; durationMs: number; rounds: number }
}

export interface AuthResults {
  authCost: RemoteSummary[]
}

const ON = 'micro-ts auth on'
const OFF = 'micro-ts auth off'

export async function runAuth(config: AuthConfig, phases: Set<number>): Promise<AuthResults> {
  return { authCost: phases.has(12) ? await costPhase(config.authCost) : [] }
}

/** The auth-cost target, when phase 12 ran. */
export function authChecks(results: AuthResults): TargetCheck[] {
  if (results.authCost.length === 0) return []
  const cost = ratio(at64(results.authCost, ON)?.rps, at64(results.authCost, OFF)?.rps)
  return [{ ...check('remote, 64 in flight: auth on >= 0.85x auth off', cost, { min: 0.85 }), phase: 12 }]
}

/** The largest share of a core other processes used in a measured window of phase 12. */
export function authNoise(results: AuthResults): Record<string, number> {
  if (results.authCost.length === 0) return {}
  const finite = (v: number) => (Number.isFinite(v) ? v : 0)
  return { 'auth cost': Math.max(0, ...results.authCost.map((r) => finite(r.otherCpu))) }
}

/** Settings that make the pair enforce auth: the public key for the server, a token for the client. */
async function authSettings(namespace: string): Promise<Record<string, string>> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string
  const [jwk] = await parsePublicKeys(pem)
  if (!jwk) throw new Error('no key')
  const account = {
    id: 'bench-client',
    type: 'service' as const,
    issuer: namespace,
    scopes: ['service'],
    metadata: {},
    uid: 'bench',
  }
  const { token } = await signAccessToken(account, { kid: jwk.kid, alg: 'EdDSA', key: privateKey }, 3600_000)
  return { BENCH_AUTH_PUBLIC_KEY: pem, BENCH_TOKEN: token }
}

async function costPhase(c: AuthConfig['authCost']): Promise<RemoteSummary[]> {
  console.log(
    `\n10. Cost of auth: micro-ts remote call with the server verifying each call's token and checking a rule, ` +
      `and with auth off, ${c.concurrency.join(' and ')} in flight, ${c.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 12')
  const rounds: RemoteResult[] = []
  for (let round = 1; round <= c.rounds; round++) {
    for (const [system, on] of [
      [ON, true],
      [OFF, false],
    ] as const) {
      const result = await attempt(`${system} round ${round}`, async () => {
        const pair = await remotePair('micro-ts')
        if (on) Object.assign(pair.env, await authSettings(pair.env.BENCH_NAMESPACE as string))
        return runPair({ ...pair, system }, c)
      })
      if (result) rounds.push(result)
    }
  }
  const rows = summarizeRounds(rounds)
  console.log(remoteTable(rows))
  for (const level of c.concurrency) {
    const on = rows.find((r) => r.system === ON && r.concurrency === level)
    const off = rows.find((r) => r.system === OFF && r.concurrency === level)
    console.log(`  at ${level} in flight: auth on/off ${fmtX(ratio(on?.rps, off?.rps))}`)
  }
  return rows
}
