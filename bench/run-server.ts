/**
 * Phase 18 of `npm run bench`: `micro server` itself. (1) Its idle RSS: the built CLI's
 * `micro server` (both ports on 127.0.0.1:0, a home of its own so ~/.micro is fresh, the
 * embedded engines) left idle, then VmRSS; target <= 80 MB. (2) What auth costs the
 * gateway: phase 11's micro-ts gateway with the platform's authorizer enforcing (token
 * verified and cached, rules, endpoint scopes) against the same gateway without it, rounds
 * interleaved; target on/off >= 0.85 at 64 connections.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { runGateway } from './gateway.js'
import { machineBusyMs, readCpuMs, readRssMb } from './proc.js'
import { type RemoteResult, type RemoteSummary, rowAt, summarizeRounds } from './remote.js'
import { check, remoteTable, type TargetCheck } from './report.js'
import { attempt, checkQuiet } from './session.js'
import { formatFixed } from './stats.js'
import { fmtX, ratio } from './targets.js'

export interface ServerConfig {
  server: { runs: number; idleMs: number }
  gatewayAuth: { connections: number; warmupMs: number; durationMs: number; rounds: number }
}

/** One idle `micro server`: RSS after idling, and how busy the rest of the machine was. */
export interface ServerIdleRun {
  rssMb: number
  /** Start to both URLs printed, ms. */
  startMs: number
  otherCpu: number
}

export interface ServerResults {
  serverIdle: ServerIdleRun[]
  gatewayAuth: RemoteSummary[]
}

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
const ON = 'gateway auth on'
const OFF = 'gateway auth off'

/** Run phase 18 when selected. */
export async function runServer(config: ServerConfig, phases: Set<number>): Promise<ServerResults> {
  const results: ServerResults = { serverIdle: [], gatewayAuth: [] }
  if (!phases.has(18)) return results
  console.log(
    `\n14. micro server: idle RSS after ${config.server.idleMs / 1000} s (${config.server.runs} run(s), median), ` +
      `and the gateway with auth on vs off (${config.gatewayAuth.connections} connections, ${config.gatewayAuth.rounds} interleaved round(s))`,
  )
  await checkQuiet('phase 18')
  for (let run = 1; run <= config.server.runs; run++) {
    const idle = await attempt(`micro server idle run ${run}`, () => idleOnce(config.server.idleMs))
    if (idle) results.serverIdle.push(idle)
  }
  const idle = medianIdle(results.serverIdle)
  console.log(
    `  micro server idle RSS ${formatFixed(idle?.rssMb ?? Number.NaN, 1)} MB (runs: ${results.serverIdle.map((r) => r.rssMb.toFixed(1)).join(', ')}), ` +
      `start to serving ${formatFixed(idle?.startMs ?? Number.NaN, 0)} ms`,
  )
  const rounds: RemoteResult[] = []
  for (let round = 1; round <= config.gatewayAuth.rounds; round++) {
    for (const [system, on] of [
      [ON, true],
      [OFF, false],
    ] as const) {
      const result = await attempt(`${system} round ${round}`, () =>
        runGateway('micro-ts', config.gatewayAuth, on ? { BENCH_GATEWAY_AUTH: 'on' } : {}),
      )
      if (result) rounds.push({ ...result, system })
    }
  }
  results.gatewayAuth = summarizeRounds(rounds)
  console.log(remoteTable(results.gatewayAuth, { roles: ['srv', 'load'], level: 'connections' }))
  const on = rowAt(results.gatewayAuth, ON, config.gatewayAuth.connections)
  const off = rowAt(results.gatewayAuth, OFF, config.gatewayAuth.connections)
  console.log(`  gateway auth on/off ${fmtX(ratio(on?.rps, off?.rps))}`)
  return results
}

/** The targets of phase 18. */
export function serverChecks(results: ServerResults, connections: number): TargetCheck[] {
  const checks: TargetCheck[] = []
  const idle = medianIdle(results.serverIdle)
  if (idle) {
    const mb = (v: number) => `${formatFixed(v, 1)} MB`
    checks.push({ ...check('micro server idle RSS <= 80 MB', idle.rssMb, { max: 80 }, mb), phase: 18 })
  }
  if (results.gatewayAuth.length > 0) {
    const cost = ratio(
      rowAt(results.gatewayAuth, ON, connections)?.rps,
      rowAt(results.gatewayAuth, OFF, connections)?.rps,
    )
    checks.push({
      ...check(`gateway, ${connections} connections: auth on >= 0.85x auth off`, cost, { min: 0.85 }),
      phase: 18,
    })
  }
  return checks
}

/** The largest share of a core other processes used while phase 18 measured. */
export function serverNoise(results: ServerResults): Record<string, number> {
  const finite = (v: number) => (Number.isFinite(v) ? v : 0)
  const noise: Record<string, number> = {}
  if (results.serverIdle.length > 0)
    noise['server idle'] = Math.max(0, ...results.serverIdle.map((r) => finite(r.otherCpu)))
  if (results.gatewayAuth.length > 0)
    noise['gateway auth'] = Math.max(0, ...results.gatewayAuth.map((r) => finite(r.otherCpu)))
  return noise
}

function medianIdle(runs: ServerIdleRun[]): ServerIdleRun | undefined {
  if (runs.length === 0) return undefined
  const sorted = [...runs].sort((a, b) => a.rssMb - b.rssMb)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Start `micro server` from the built CLI, wait for its URLs, idle, read its RSS, stop it. */
async function idleOnce(idleMs: number): Promise<ServerIdleRun> {
  const home = await mkdtemp(join(tmpdir(), 'bench-server-'))
  const machineBefore = machineBusyMs()
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [CLI, 'server', '--address', '127.0.0.1:0', '--platform-address', '127.0.0.1:0'],
    {
      env: {
        ...process.env,
        HOME: home,
        MICRO_CONFIG_DIR: join(home, 'cli'),
        MICRO_NAMESPACE: `bench-srv-${process.pid}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  try {
    await printed(child, /platform port\s+\S+/, 30_000)
    const startMs = performance.now() - started
    await sleep(idleMs)
    const rssMb = await readRssMb(child.pid as number)
    const elapsed = performance.now() - started
    const otherMs = machineBusyMs() - machineBefore - readCpuMs(child.pid as number)
    return { rssMb, startMs, otherCpu: Math.max(0, otherMs) / elapsed }
  } finally {
    child.kill('SIGTERM')
    const exited = await Promise.race([
      new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
      sleep(15_000).then(() => false),
    ])
    if (!exited) kill()
    process.off('exit', kill)
    await rm(home, { recursive: true, force: true })
  }
}

/** Resolves once the child's stdout matches; rejects after `ms` or when it exits first. */
function printed(child: ChildProcess, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(
      () => reject(new Error(`micro server printed no URLs in ${ms} ms: ${out}${err}`)),
      ms,
    )
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
    })
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (pattern.test(out)) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`micro server exited (${code}) before serving: ${err}`))
    })
  })
}
