/**
 * Phases 1 to 3 of `npm run bench`: the in-process call, the remote call over loopback TCP,
 * and start to serving with idle RSS. Each prints its table as it finishes; failures are
 * recorded by `attempt` and the other phases still run.
 */
import {
  type InProcessCase,
  type InProcessResult,
  type InProcessSummary,
  runInProcess,
  summarizeInProcess,
} from './inprocess.js'
import {
  type RemoteResult,
  type RemoteSummary,
  type RemoteSystem,
  runRemote,
  summarizeRounds,
} from './remote.js'
import { inProcessTable, remoteTable, startupTable } from './report.js'
import { attempt, checkQuiet } from './session.js'
import {
  type StartupResult,
  type StartupRun,
  type StartupSystem,
  startOnce,
  summarizeStartup,
} from './startup.js'
import { formatFixed } from './stats.js'
import { at64, fmtX, opsOf, ratio } from './targets.js'

/** Settings of phases 1-3 (durations in ms). */
export interface CallsConfig {
  inProcess: { warmupMs: number; durationMs: number; rounds: number }
  remote: { concurrency: number[]; warmupMs: number; durationMs: number; rounds: number }
  startup: { runs: number; idleMs: number }
}

/** What phases 1-3 measured: summaries and every round. */
export interface CallsResults {
  inProcess: InProcessSummary[]
  inProcessRounds: InProcessResult[]
  remote: RemoteSummary[]
  remoteRounds: RemoteResult[]
  startup: StartupResult[]
}

/** Run the selected phases among 1-3, in order. */
export async function runCalls(config: CallsConfig, phases: Set<number>): Promise<CallsResults> {
  const results: CallsResults = {
    inProcess: [],
    inProcessRounds: [],
    remote: [],
    remoteRounds: [],
    startup: [],
  }
  if (phases.has(1)) await inProcessPhase(config.inProcess, results)
  if (phases.has(2)) await remotePhase(config.remote, results)
  if (phases.has(3)) await startupPhase(config.startup, results)
  return results
}

async function inProcessPhase(ip: CallsConfig['inProcess'], out: CallsResults): Promise<void> {
  console.log(
    `\n1. In-process call: sequential awaited calls, ${ip.warmupMs / 1000} s warm-up + ${ip.durationMs / 1000} s, ` +
      `a fresh process per case, ${ip.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 1')
  const inProcessRounds: InProcessResult[] = []
  for (let round = 1; round <= ip.rounds; round++) {
    for (const which of ['micro-call', 'micro-proxy', 'moleculer', 'direct'] as InProcessCase[]) {
      const result = await attempt(`in-process ${which} round ${round}`, () => runInProcess(which, ip))
      if (result) inProcessRounds.push(result)
    }
  }
  const inProcess = summarizeInProcess(inProcessRounds)
  const moleculerOps = opsOf(inProcess, 'moleculer')
  console.log(inProcessTable(inProcess))
  console.log(
    `  micro-ts/Moleculer: client.call ${fmtX(ratio(opsOf(inProcess, 'micro-call'), moleculerOps))}, ` +
      `typed proxy ${fmtX(ratio(opsOf(inProcess, 'micro-proxy'), moleculerOps))}`,
  )
  out.inProcessRounds = inProcessRounds
  out.inProcess = inProcess
}

async function remotePhase(rc: CallsConfig['remote'], out: CallsResults): Promise<void> {
  console.log(
    `\n2. Remote call, 2 processes over loopback TCP: closed loop at ${rc.concurrency.join(' and ')} in flight, ` +
      `${rc.warmupMs / 1000} s warm-up + ${rc.durationMs / 1000} s each, ${rc.rounds} interleaved round(s), medians`,
  )
  await checkQuiet('phase 2')
  const remoteRounds: RemoteResult[] = []
  // Rounds interleave the systems, so a slow patch of the machine hits all of them alike.
  for (let round = 1; round <= rc.rounds; round++) {
    for (const system of ['micro-ts', 'moleculer', 'bare'] as RemoteSystem[]) {
      const result = await attempt(`remote ${system} round ${round}`, () => runRemote(system, rc))
      if (result) remoteRounds.push(result)
    }
  }
  const remote = summarizeRounds(remoteRounds)
  const [micro64, moleculer64, bare64] = (['micro-ts', 'moleculer', 'bare'] as const).map((s) =>
    at64(remote, s),
  )
  console.log(remoteTable(remote))
  console.log(
    `  at 64 in flight: micro-ts/Moleculer ${fmtX(ratio(micro64?.rps, moleculer64?.rps))}, ` +
      `micro-ts/bare ${fmtX(ratio(micro64?.rps, bare64?.rps))}, ` +
      `p99 micro-ts ${formatFixed(micro64?.p99Ms ?? Number.NaN, 3)} ms vs Moleculer ${formatFixed(moleculer64?.p99Ms ?? Number.NaN, 3)} ms`,
  )
  const strided = remote.filter((r) => r.sampleEvery > 1)
  if (strided.length > 0) {
    console.log(
      `  latency percentiles of ${strided.map((r) => `${r.system}@${r.concurrency} (1 in ${r.sampleEvery} calls)`).join(', ')} come from a subsample`,
    )
  }
  out.remoteRounds = remoteRounds
  out.remote = remote
}

async function startupPhase(sc: CallsConfig['startup'], out: CallsResults): Promise<void> {
  console.log(
    `\n3. Start to serving and idle RSS: one service, ${sc.runs} starts each (alternating), medians; RSS after ${sc.idleMs / 1000} s idle`,
  )
  await checkQuiet('phase 3')
  const startRuns: Record<StartupSystem, StartupRun[]> = { 'micro-ts': [], moleculer: [] }
  for (let i = 0; i < sc.runs; i++) {
    for (const system of ['micro-ts', 'moleculer'] as StartupSystem[]) {
      const run = await attempt(`startup ${system}`, () => startOnce(system, sc.idleMs))
      if (run) startRuns[system].push(run)
    }
  }
  const startup: StartupResult[] = (['micro-ts', 'moleculer'] as StartupSystem[])
    .filter((s) => startRuns[s].length > 0)
    .map((s) => summarizeStartup(s, startRuns[s]))
  console.log(startupTable(startup))
  console.log(
    '  "serving at" is performance.now() in the fixture once serving: ms since its process started\n' +
      '  (both systems start without NODE_EXTRA_CA_CERTS, which node reads at every start).',
  )
  out.startup = startup
}
