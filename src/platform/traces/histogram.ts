/** The smallest latency told apart, ms (1 µs); anything below is in the first bucket. */
const MIN_MS = 0.001
/** Each bucket's upper bound is 10% above the previous one: quantiles within ~10%. */
const GROWTH = 1.1
const LOG_GROWTH = Math.log(GROWTH)
/** Past ~28 hours every latency shares the last bucket. */
const MAX_BUCKET = 300

/**
 * A small latency histogram with exponential buckets, kept sparse (a map of the buckets
 * that were hit), so a series costs a few entries, not a fixed array. Mergeable, so
 * per-endpoint histograms add up to a service's.
 */
export class LatencyHistogram {
  readonly #buckets = new Map<number, number>()
  #count = 0

  get count(): number {
    return this.#count
  }

  add(ms: number): void {
    const index = bucketOf(ms)
    this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + 1)
    this.#count++
  }

  /** Add every value of `other` to this one. */
  merge(other: LatencyHistogram): void {
    for (const [index, n] of other.#buckets) this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + n)
    this.#count += other.#count
  }

  /** The latency at quantile `q` (0..1), as its bucket's upper bound; 0 when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return 0
    const rank = Math.max(1, Math.ceil(q * this.#count))
    const indexes = [...this.#buckets.keys()].sort((a, b) => a - b)
    let seen = 0
    for (const index of indexes) {
      seen += this.#buckets.get(index) as number
      if (seen >= rank) return upperBound(index)
    }
    return upperBound(indexes[indexes.length - 1] as number)
  }
}

function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0
  return Math.min(MAX_BUCKET, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH))
}

/** Rounded to 3 significant digits, so numbers read well in a tooltip. */
function upperBound(index: number): number {
  return Number((MIN_MS * GROWTH ** index).toPrecision(3))
}
