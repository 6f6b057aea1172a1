/**
 * Phase 2: remote calls between two processes over loopback TCP, for micro-ts, Moleculer
 * (TCP transporter) and a bare multiplexed socket. Server on core 0, client on core 1.
 */
import { fileURLToPath } from 'node:url'
import { freePort, type Line, spawnFixture } from './children.js'
import type { LoadResult } from './load.js'
import { machineBusyMs, readCpuMs } from './proc.js'
import { median } from './stats.js'

export type RemoteSystem = 'micro-ts' | 'moleculer' | 'bare'

/** A client run plus the server's CPU time over the same measured window. */
export interface RemoteRun extends LoadResult {
  serverCpuMs: number | undefined
  /**
   * CPU time the rest of the machine used in the window (machine busy time minus server
   * and client), ms: anything well above zero means another process was competing.
   */
  otherCpuMs: number | undefined
}

export interface RemoteResult {
  system: RemoteSystem
  runs: RemoteRun[]
}

export interface RemoteOptions {
  concurrency: number[]
  warmupMs: number
  durationMs: number
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))
const FIXTURES = { 'micro-ts': 'micro', moleculer: 'moleculer', bare: 'bare' } as const

/** Run one system: start its server, wait until it serves, run the client to completion. */
export async function runRemote(system: RemoteSystem, options: RemoteOptions): Promise<RemoteResult> {
  const env: Record<string, string> = {
    BENCH_CONCURRENCY: options.concurrency.join(','),
    BENCH_WARMUP_MS: String(options.warmupMs),
    BENCH_DURATION_MS: String(options.durationMs),
  }
  if (system === 'micro-ts') env.BENCH_NAMESPACE = `bench-${process.pid}-${Date.now().toString(36)}`
  if (system === 'moleculer') {
    env.BENCH_PORT = String(await freePort())
    env.BENCH_NODE_ID = `bench-server-${process.pid}`
  }
  const server = spawnFixture(fixture(`${FIXTURES[system]}-server`), { env, core: 0 })
  try {
    const ready = await server.waitFor('ready', 15_000)
    if (system === 'bare') env.BENCH_PORT = String(ready.data.port)
    // The client marks the start and end of each measured window; read the server's CPU
    // time at both so its cost per call covers the same window as the client's numbers.
    const serverCpu = new Map<number, number>()
    const machineCpu = new Map<number, number>()
    const onLine = ({ data }: Line) => {
      if (data.mark === undefined) return
      const concurrency = data.concurrency as number
      const serverNow = readCpuMs(server.pid)
      const machineNow = machineBusyMs()
      const start = data.mark === 'start'
      serverCpu.set(concurrency, start ? serverNow : serverNow - (serverCpu.get(concurrency) ?? serverNow))
      machineCpu.set(
        concurrency,
        start ? machineNow : machineNow - (machineCpu.get(concurrency) ?? machineNow),
      )
    }
    const client = spawnFixture(fixture(`${FIXTURES[system]}-client`), { env, core: 1, onLine })
    try {
      // Each level runs warm-up + duration; the rest covers start-up and discovery.
      const budget = options.concurrency.length * (options.warmupMs + options.durationMs) + 30_000
      const result = await client.waitFor('result', budget)
      const runs = (result.data.runs as LoadResult[]).map((run): RemoteRun => {
        const serverCpuMs = serverCpu.get(run.concurrency)
        const machineMs = machineCpu.get(run.concurrency)
        const otherCpuMs =
          serverCpuMs === undefined || machineMs === undefined
            ? undefined
            : Math.max(0, machineMs - serverCpuMs - run.clientCpuMs)
        return { ...run, serverCpuMs, otherCpuMs }
      })
      return { system, runs }
    } finally {
      // A client exits by itself after its result line; let it (a profile is written on exit).
      if (!(await client.exited(20_000))) await client.stop()
    }
  } finally {
    await server.stop()
  }
}

/** One system at one concurrency over all rounds: per-metric medians, and every round. */
export interface RemoteSummary {
  system: RemoteSystem
  concurrency: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Worst latency seen in any round. */
  maxMs: number
  /** CPU use as a share of the window (1 = one core), medians. */
  serverCpu: number
  clientCpu: number
  otherCpu: number
  /** CPU time per call, µs, medians. */
  serverUsPerCall: number
  clientUsPerCall: number
  calls: number
  errors: number
  firstError: string | undefined
  /** Largest recording stride of any round (1: every latency recorded). */
  sampleEvery: number
  rounds: RemoteRun[]
}

/**
 * Fold rounds into one row per system and concurrency. Medians rather than means: a
 * round that hits a bad patch (a GC-heavy phase, a noisy neighbour) should not move the
 * result, and every round's throughput stays in the report.
 */
export function summarizeRounds(results: RemoteResult[]): RemoteSummary[] {
  const rows = new Map<string, { system: RemoteSystem; concurrency: number; rounds: RemoteRun[] }>()
  for (const result of results) {
    for (const run of result.runs) {
      const key = `${result.system}/${run.concurrency}`
      const row = rows.get(key) ?? { system: result.system, concurrency: run.concurrency, rounds: [] }
      row.rounds.push(run)
      rows.set(key, row)
    }
  }
  return [...rows.values()].map(({ system, concurrency, rounds }) => {
    const of = (f: (r: RemoteRun) => number) => median(rounds.map(f))
    const window = (r: RemoteRun) => r.seconds * 1000
    return {
      system,
      concurrency,
      rps: of((r) => r.rps),
      p50Ms: of((r) => r.p50Ms),
      p99Ms: of((r) => r.p99Ms),
      maxMs: Math.max(...rounds.map((r) => r.maxMs)),
      serverCpu: of((r) => (r.serverCpuMs ?? Number.NaN) / window(r)),
      clientCpu: of((r) => r.clientCpuMs / window(r)),
      otherCpu: of((r) => (r.otherCpuMs ?? Number.NaN) / window(r)),
      serverUsPerCall: of((r) => ((r.serverCpuMs ?? Number.NaN) * 1000) / r.requests),
      clientUsPerCall: of((r) => (r.clientCpuMs * 1000) / r.requests),
      calls: rounds.reduce((sum, r) => sum + r.requests, 0),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
      firstError: rounds.find((r) => r.firstError)?.firstError,
      sampleEvery: Math.max(...rounds.map((r) => r.sampleEvery)),
      rounds,
    }
  })
}
