/**
 * Phase 1: in-process calls, micro-ts (client.call and the typed proxy) against Moleculer's
 * local broker.call, each case in a fresh process measured with the same sequential loop.
 */
import { fileURLToPath } from 'node:url'
import { spawnFixture } from './children.js'
import type { SequentialResult } from './load.js'
import { machineBusyMs } from './proc.js'
import { median } from './stats.js'

/** `direct` awaits the handler method itself: the floor any framework adds its cost to. */
export type InProcessCase = 'micro-call' | 'micro-proxy' | 'moleculer' | 'direct'

export interface InProcessResult extends SequentialResult {
  case: InProcessCase
  /** CPU time the rest of the machine used in the window, ms (see RemoteRun.otherCpuMs). */
  otherCpuMs: number | undefined
}

const script = fileURLToPath(new URL('./fixtures/inprocess-case.js', import.meta.url))

/** Run one case to completion; it is pinned to core 1 so runs are comparable. */
export async function runInProcess(
  which: InProcessCase,
  options: { warmupMs: number; durationMs: number },
): Promise<InProcessResult> {
  let machineAtStart = 0
  let machineMs: number | undefined
  const child = spawnFixture(script, {
    args: [which],
    core: 1,
    onLine: ({ data }) => {
      if (data.mark === 'start') machineAtStart = machineBusyMs()
      if (data.mark === 'end') machineMs = machineBusyMs() - machineAtStart
    },
    env: { BENCH_WARMUP_MS: String(options.warmupMs), BENCH_DURATION_MS: String(options.durationMs) },
  })
  try {
    const line = await child.waitFor('result', options.warmupMs + options.durationMs + 20_000)
    const result = line.data as unknown as InProcessResult
    const otherCpuMs = machineMs === undefined ? undefined : Math.max(0, machineMs - result.cpuMs)
    return { ...result, otherCpuMs }
  } finally {
    // The case exits by itself after its result line; let it (a profile is written on exit).
    if (!(await child.exited(20_000))) await child.stop()
  }
}

/** One case over all rounds: median throughput, and every round's. */
export interface InProcessSummary {
  case: InProcessCase
  opsPerSec: number
  nsPerOp: number
  ops: number
  /** Worst share of a core other processes used in any round's window. */
  otherCpu: number
  rounds: InProcessResult[]
}

/** Fold rounds into one row per case (median ops/s: one bad round does not move it). */
export function summarizeInProcess(results: InProcessResult[]): InProcessSummary[] {
  const cases = [...new Set(results.map((r) => r.case))]
  return cases.map((which) => {
    const rounds = results.filter((r) => r.case === which)
    const opsPerSec = median(rounds.map((r) => r.opsPerSec))
    return {
      case: which,
      opsPerSec,
      nsPerOp: 1e9 / opsPerSec,
      ops: rounds.reduce((sum, r) => sum + r.ops, 0),
      otherCpu: Math.max(...rounds.map((r) => (r.otherCpuMs ?? 0) / (r.seconds * 1000))),
      rounds,
    }
  })
}
