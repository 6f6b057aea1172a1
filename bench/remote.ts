/**
 * Phase 2: remote calls between two processes over loopback TCP, for micro-ts, Moleculer
 * (TCP transporter) and a bare multiplexed socket. Server on core 0, client on core 1.
 *
 * `runPair` is the machinery: it also runs the NATS transport phase (the same fixtures with
 * other settings) and the pub/sub phase (subscriber as the server, publisher as the client).
 */
import { fileURLToPath } from 'node:url'
import { freePort, type Line, spawnFixture } from './children.js'
import type { LoadResult } from './load.js'
import { machineBusyMs, readCpuMs, WindowCpu } from './proc.js'
import { median } from './stats.js'

/** The systems of the TCP remote-call phase. */
export type RemoteSystem = 'micro-ts' | 'moleculer' | 'bare'

/** A client run plus the server's CPU time over the same measured window. */
export interface RemoteRun extends LoadResult {
  serverCpuMs: number | undefined
  /** CPU time of the engine in between (the NATS server), ms; undefined when there is none. */
  engineCpuMs: number | undefined
  /**
   * CPU time the rest of the machine used in the window (machine busy time minus server,
   * client and engine), ms: anything well above zero means another process was competing.
   */
  otherCpuMs: number | undefined
  /** Pub/sub only: messages published but never received by the end of the drain. */
  lost?: number
}

/** One run of a pair: every level the client measured. */
export interface RemoteResult {
  system: string
  runs: RemoteRun[]
}

/** Two fixtures measured together: a server on core 0 and the client driving it on core 1. */
export interface PairSpec {
  /** The name the report shows. */
  system: string
  /** Fixture file names (without `.js`) in fixtures/. */
  server: string
  client: string
  /** Settings for both. A `port` in the server's ready line is passed on as BENCH_PORT. */
  env: Record<string, string>
  /** The pid of an engine both talk through (the NATS server), whose CPU is reported apart. */
  enginePid?: number | undefined
}

/** The client's levels (calls or messages in flight) and durations, ms. */
export interface RemoteOptions {
  concurrency: number[]
  warmupMs: number
  durationMs: number
}

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url))
const FIXTURES = { 'micro-ts': 'micro', moleculer: 'moleculer', bare: 'bare' } as const

/** A fresh namespace (micro-ts) or name prefix, so no run finds what another left. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`
}

/** The fixtures and settings of one system of the TCP remote-call phase. */
export async function remotePair(system: RemoteSystem): Promise<PairSpec> {
  const env: Record<string, string> = {}
  if (system === 'micro-ts') env.BENCH_NAMESPACE = uniqueName('bench')
  if (system === 'moleculer') {
    env.BENCH_PORT = String(await freePort())
    env.BENCH_NODE_ID = `bench-server-${process.pid}`
  }
  const name = FIXTURES[system]
  return { system, server: `${name}-server`, client: `${name}-client`, env }
}

/** Run one system of the TCP remote-call phase. */
export async function runRemote(system: RemoteSystem, options: RemoteOptions): Promise<RemoteResult> {
  return runPair(await remotePair(system), options)
}

/** Run a pair: start its server, wait until it serves, run the client to completion. */
export async function runPair(spec: PairSpec, options: RemoteOptions): Promise<RemoteResult> {
  const env: Record<string, string> = {
    ...spec.env,
    BENCH_CONCURRENCY: options.concurrency.join(','),
    BENCH_WARMUP_MS: String(options.warmupMs),
    BENCH_DURATION_MS: String(options.durationMs),
  }
  const server = spawnFixture(fixture(spec.server), { env, core: 0 })
  try {
    const ready = await server.waitFor('ready', 15_000)
    if (typeof ready.data.port === 'number') env.BENCH_PORT = String(ready.data.port)
    // The client marks the start and end of each measured window; read the server's (and
    // the engine's) CPU time at both so the cost per call covers the client's window.
    const serverCpu = new WindowCpu(() => readCpuMs(server.pid))
    const machineCpu = new WindowCpu(machineBusyMs)
    const enginePid = spec.enginePid
    const engineCpu = new WindowCpu(() => (enginePid === undefined ? Number.NaN : readCpuMs(enginePid)))
    const onLine = ({ data }: Line) => {
      if (data.mark === undefined) return
      const level = data.concurrency as number
      const start = data.mark === 'start'
      for (const counter of [serverCpu, machineCpu, engineCpu]) {
        try {
          counter.mark(level, start)
        } catch {
          // the engine went away: its share stays unknown
        }
      }
    }
    const client = spawnFixture(fixture(spec.client), { env, core: 1, onLine })
    try {
      // Each level runs warm-up + duration; the rest covers start-up and discovery.
      const budget = options.concurrency.length * (options.warmupMs + options.durationMs) + 30_000
      const result = await client.waitFor('result', budget)
      const runs = (result.data.runs as LoadResult[]).map((run): RemoteRun => {
        const serverCpuMs = serverCpu.used(run.concurrency)
        const machineMs = machineCpu.used(run.concurrency)
        const engineMs = engineCpu.used(run.concurrency)
        const engineCpuMs = engineMs !== undefined && Number.isFinite(engineMs) ? engineMs : undefined
        const otherCpuMs =
          serverCpuMs === undefined || machineMs === undefined
            ? undefined
            : Math.max(0, machineMs - serverCpuMs - run.clientCpuMs - (engineCpuMs ?? 0))
        return { ...run, serverCpuMs, engineCpuMs, otherCpuMs }
      })
      return { system: spec.system, runs }
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
  system: string
  concurrency: number
  rps: number
  p50Ms: number
  p99Ms: number
  /** Worst latency seen in any round. */
  maxMs: number
  /** CPU use as a share of the window (1 = one core), medians. */
  serverCpu: number
  clientCpu: number
  /** NaN when there is no engine (or it could not be read). */
  engineCpu: number
  otherCpu: number
  /** CPU time per call, µs, medians. */
  serverUsPerCall: number
  clientUsPerCall: number
  /** NaN when there is no engine. */
  engineUsPerCall: number
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
  const rows = new Map<string, { system: string; concurrency: number; rounds: RemoteRun[] }>()
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
      engineCpu: of((r) => (r.engineCpuMs ?? Number.NaN) / window(r)),
      otherCpu: of((r) => (r.otherCpuMs ?? Number.NaN) / window(r)),
      serverUsPerCall: of((r) => ((r.serverCpuMs ?? Number.NaN) * 1000) / r.requests),
      clientUsPerCall: of((r) => (r.clientCpuMs * 1000) / r.requests),
      engineUsPerCall: of((r) => ((r.engineCpuMs ?? Number.NaN) * 1000) / r.requests),
      calls: rounds.reduce((sum, r) => sum + r.requests, 0),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
      firstError: rounds.find((r) => r.firstError)?.firstError,
      sampleEvery: Math.max(...rounds.map((r) => r.sampleEvery)),
      rounds,
    }
  })
}

/** The row of `system` at `level` (window or calls in flight). */
export function rowAt(rows: RemoteSummary[], system: string, level: number): RemoteSummary | undefined {
  return rows.find((r) => r.system === system && r.concurrency === level)
}

/**
 * A system's throughput: its best median msg/s over the windows above 1 in flight, since
 * each system batches differently and a user picks the window that suits it.
 */
export function peakOf(rows: RemoteSummary[], system: string): RemoteSummary | undefined {
  return rows
    .filter((r) => r.system === system && r.concurrency > 1 && Number.isFinite(r.rps))
    .sort((a, b) => b.rps - a.rps)[0]
}
