/** Small statistics and formatting helpers shared by the bench phases and fixtures. */

/** Latency summary of one measured run, in milliseconds. */
export interface LatencySummary {
  /** Latencies the summary is based on. */
  samples: number
  p50Ms: number
  p99Ms: number
  meanMs: number
  maxMs: number
}

/**
 * Summarise the first `count` latencies of `latencies` (ms). Sorts that prefix in place:
 * a typed-array sort is numeric and needs no copy of millions of samples.
 */
export function summarize(latencies: Float64Array, count: number): LatencySummary {
  const n = Math.min(count, latencies.length)
  if (n === 0)
    return { samples: 0, p50Ms: Number.NaN, p99Ms: Number.NaN, meanMs: Number.NaN, maxMs: Number.NaN }
  const sorted = latencies.subarray(0, n).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += sorted[i] as number
  return {
    samples: n,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: sum / n,
    maxMs: sorted[n - 1] as number,
  }
}

/** Nearest-rank percentile of an ascending array (the value at least p% of samples do not exceed). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

/** Median of a list (mean of the middle two for even lengths); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** An integer with thousands separators, e.g. `1,234,567`. */
export function formatInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a'
}

/** A number with a fixed number of decimals, `n/a` when not finite. */
export function formatFixed(value: number, decimals: number): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : 'n/a'
}

/** A ratio as `2.31x`. */
export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a'
}
