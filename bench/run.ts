/**
 * `npm run bench`: runs the three phases (in-process, remote, start-up), prints a report
 * with a PASS/FAIL summary of the performance targets in DESIGN.md, and writes the raw
 * results to build/bench-results.json. Every phase has its own time limit and the whole
 * run is bounded by a watchdog; fixtures are killed when this process exits.
 *
 * BENCH_QUICK=1 shortens every phase (for checking the harness, not for numbers).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { availableParallelism, cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { canPin } from './children.js'
import { type InProcessCase, type InProcessResult, runInProcess, summarizeInProcess } from './inprocess.js'
import { machineBusy } from './proc.js'
import { type RemoteResult, type RemoteSystem, runRemote, summarizeRounds } from './remote.js'
import { inProcessTable, remoteTable, startupTable, summaryTable } from './report.js'
import {
  type StartupResult,
  type StartupRun,
  type StartupSystem,
  startOnce,
  summarizeStartup,
} from './startup.js'
import { formatFixed } from './stats.js'
import { at64, fmtX, noiseOf, opsOf, ratio, targetChecks } from './targets.js'

const quick = process.env.BENCH_QUICK === '1'
const config = {
  inProcess: { warmupMs: quick ? 300 : 1000, durationMs: quick ? 700 : 2000, rounds: quick ? 1 : 5 },
  remote: {
    concurrency: [1, 64],
    warmupMs: quick ? 300 : 1000,
    durationMs: quick ? 1000 : 5000,
    rounds: quick ? 1 : 2,
  },
  startup: { runs: quick ? 2 : 5, idleMs: 1000 },
}
const WATCHDOG_MS = 5 * 60_000
const resultsPath = fileURLToPath(new URL('../bench-results.json', import.meta.url))

// The whole run must end by itself even if a fixture hangs in a way no phase limit catches.
setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 1000} s; giving up`)
  process.exit(1)
}, WATCHDOG_MS).unref()

// moleculer's exports map hides package.json; read it next to the resolved entry point.
const moleculerEntry = createRequire(import.meta.url).resolve('moleculer')
const moleculerVersion = (
  JSON.parse(await readFile(join(dirname(moleculerEntry), 'package.json'), 'utf8')) as { version: string }
).version
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  moleculer: moleculerVersion,
  pinned: canPin,
  quick,
  config,
}
const errors: Record<string, string> = {}
/** CPU busy share of the machine just before each phase (nothing of ours runs then). */
const busyBefore: Record<string, number> = {}

/**
 * Sample the machine for half a second before a phase: other processes using the CPU
 * would skew this phase's numbers, so say so next to them.
 */
async function checkQuiet(phase: string): Promise<void> {
  const busy = await machineBusy(500)
  busyBefore[phase] = busy
  if (busy > 0.1) {
    console.log(
      `  WARNING: the machine was ${(busy * 100).toFixed(0)}% busy before this phase (other processes); numbers may be skewed`,
    )
  }
}

/** Run a phase step; a failure is reported and recorded, and the other phases still run. */
async function attempt<T>(name: string, step: () => Promise<T>): Promise<T | undefined> {
  try {
    return await step()
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    errors[name] = message
    console.log(`  ${name} FAILED: ${message.split('\n')[0]}`)
    return undefined
  }
}

const startedAt = performance.now()
console.log(
  `micro-ts bench: node ${meta.node}, ${meta.cores} cores (${meta.cpu}), moleculer ${meta.moleculer}`,
)
console.log(
  canPin
    ? 'Processes pinned with taskset: servers (and nothing else) on core 0, clients and in-process cases on core 1.'
    : 'taskset or a second core is unavailable: processes are not pinned.',
)
if (quick) console.log('BENCH_QUICK=1: short runs, numbers are indicative only.')

// Phase 1
const ip = config.inProcess
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

// Phase 2
const rc = config.remote
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

// Phase 3
const sc = config.startup
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
console.log('  "serving at" is performance.now() in the fixture once serving: ms since its process started.')

// Summary
const results = { inProcess, remote, startup }
const checks = targetChecks(results)
const noise = noiseOf(results)
console.log('\nSummary')
console.log(summaryTable(checks))
const noisy = Object.entries(noise).filter(([, share]) => share > 0.1)
console.log(
  noisy.length === 0
    ? '  machine was quiet: other processes used under 10% of a core in every measured window'
    : `  WARNING: other processes were using CPU while measuring (${noisy.map(([phase, share]) => `${phase} up to ${(share * 100).toFixed(0)}% of a core`).join(', ')}); re-run on a quiet machine before trusting these numbers`,
)
const failed = checks.filter((c) => c.pass === false || c.pass === null).length
console.log(
  `  ${failed === 0 ? 'all targets met' : `${failed} target(s) not met`}; total ${((performance.now() - startedAt) / 1000).toFixed(0)} s`,
)

await mkdir(dirname(resultsPath), { recursive: true })
await writeFile(
  resultsPath,
  `${JSON.stringify({ meta: { ...meta, busyBefore, noise }, inProcess, inProcessRounds, remote, remoteRounds, startup, checks, errors }, null, 2)}\n`,
)
console.log(`  raw results: ${resultsPath}`)
process.exit(0)
