/**
 * The load generators every client fixture shares, so the three remote systems and the
 * in-process cases are driven by exactly the same loop.
 */
import { type LatencySummary, summarize } from './stats.js'

/** One measured closed-loop run. */
export interface LoadResult extends LatencySummary {
  concurrency: number
  /** Calls completed successfully in the measured window. */
  requests: number
  errors: number
  /** First error message seen, to tell a broken setup from a slow one. */
  firstError: string | undefined
  seconds: number
  rps: number
  /** CPU time (user + system) this process used in the measured window, ms. */
  clientCpuMs: number
  /** 1 when every latency was recorded; k when only every k-th fitted the buffer. */
  sampleEvery: number
}

export interface LoadOptions {
  /** Workers, each looping awaited calls: the number of calls in flight. */
  concurrency: number
  warmupMs: number
  durationMs: number
  /**
   * Preallocated latency buffer (ms), so recording a sample never allocates while
   * measuring. When the warm-up rate says the window will complete more calls than it
   * holds, every k-th latency is recorded instead (`sampleEvery`); samples beyond its
   * length are counted, not kept.
   */
  latencies: Float64Array
  /** Called right before the measured window starts and right after it ends. */
  onMeasure?: (phase: 'start' | 'end') => void
}

/**
 * Closed-loop load: `concurrency` workers each await `call()` in a loop, first for
 * `warmupMs` (not recorded, lets the JIT and connections settle), then for `durationMs`.
 * Every measured latency is taken with `performance.now()` (the monotonic hrtime clock,
 * as a double so no BigInt is allocated per call).
 */
export async function closedLoop(call: () => Promise<unknown>, options: LoadOptions): Promise<LoadResult> {
  const { concurrency, latencies } = options
  let recorded = 0
  let sampleEvery = 1
  let requests = 0
  let errors = 0
  let firstError: string | undefined
  let recording = false
  let end = 0

  const worker = async (): Promise<void> => {
    let now = performance.now()
    while (now < end) {
      const started = now
      try {
        await call()
        now = performance.now()
        // Warm-up calls are counted too (to size the stride), but never recorded.
        if (++requests % sampleEvery === 0 && recording && recorded < latencies.length) {
          latencies[recorded++] = now - started
        }
      } catch (error) {
        now = performance.now()
        if (recording) errors++
        firstError ??= error instanceof Error ? error.message : String(error)
      }
    }
  }
  const runWorkers = () => Promise.all(Array.from({ length: concurrency }, worker))

  const warmStart = performance.now()
  end = warmStart + options.warmupMs
  await runWorkers()
  // Calls the window should complete at the warm-up rate, with a margin: the stride that
  // fits them in the buffer.
  const expected = (requests / (performance.now() - warmStart)) * options.durationMs * 1.3
  sampleEvery = Math.max(1, Math.ceil(expected / latencies.length))
  requests = 0
  errors = 0

  options.onMeasure?.('start')
  recording = true
  const cpu = process.cpuUsage()
  const start = performance.now()
  end = start + options.durationMs
  await runWorkers()
  // Workers finish the call they had in flight at the deadline; those calls are counted
  // and so is the time they took.
  const seconds = (performance.now() - start) / 1000
  const used = process.cpuUsage(cpu)
  options.onMeasure?.('end')
  return {
    concurrency,
    requests,
    errors,
    firstError,
    seconds,
    rps: requests / seconds,
    clientCpuMs: (used.user + used.system) / 1000,
    sampleEvery,
    ...summarize(latencies, recorded),
  }
}

/** Result of a sequential (one call in flight) throughput run. */
export interface SequentialResult {
  ops: number
  seconds: number
  opsPerSec: number
  nsPerOp: number
  /** CPU time (user + system) this process used in the measured window, ms. */
  cpuMs: number
}

/**
 * benchmarkify-style throughput: one awaited call after another for `durationMs` after a
 * warm-up. The clock is read once per batch of calls, so reading it costs nothing next
 * to in-process calls of a few hundred nanoseconds.
 */
export async function sequentialRate(
  call: () => Promise<unknown>,
  warmupMs: number,
  durationMs: number,
  onMeasure?: (phase: 'start' | 'end') => void,
  batch = 100,
): Promise<SequentialResult> {
  let end = performance.now() + warmupMs
  while (performance.now() < end) for (let i = 0; i < batch; i++) await call()
  onMeasure?.('start')
  const cpu = process.cpuUsage()
  const start = performance.now()
  end = start + durationMs
  let ops = 0
  let now: number
  do {
    for (let i = 0; i < batch; i++) await call()
    ops += batch
    now = performance.now()
  } while (now < end)
  const seconds = (now - start) / 1000
  const used = process.cpuUsage(cpu)
  onMeasure?.('end')
  return {
    ops,
    seconds,
    opsPerSec: ops / seconds,
    nsPerOp: (seconds * 1e9) / ops,
    cpuMs: (used.user + used.system) / 1000,
  }
}
