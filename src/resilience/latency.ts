/** Bucket upper bounds grow by this factor: ~25% resolution on every percentile. */
const GROWTH = 1.25
const FIRST_BOUND_MS = 0.1
const BUCKETS = 48
const LOG_GROWTH = Math.log(GROWTH)
/** Counts are halved after this many samples, so old latencies fade. */
const DECAY_EVERY = 2048
/** Percentiles are worked out again after this many samples. */
const REFRESH_EVERY = 64

/**
 * An endpoint's recent latencies in a fixed histogram (48 log-scale buckets, 0.1 ms to a few
 * seconds): recording is one logarithm and an increment, no allocation. Counts halve every
 * 2048 samples so the percentiles follow the endpoint as it changes. A percentile is the
 * upper bound of its bucket, refreshed every 64 samples.
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS)
  #total = 0
  #sinceDecay = 0
  #sinceRefresh = REFRESH_EVERY
  readonly #cache = new Map<number, number>()

  /** Samples that count now (decayed). */
  get samples(): number {
    return this.#total
  }

  /** Record one call's latency, ms. */
  record(ms: number): void {
    const i =
      ms <= FIRST_BOUND_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FIRST_BOUND_MS) / LOG_GROWTH))
    this.#counts[i] = (this.#counts[i] as number) + 1
    this.#total++
    this.#sinceRefresh++
    if (++this.#sinceDecay >= DECAY_EVERY) {
      this.#sinceDecay = 0
      for (let b = 0; b < BUCKETS; b++) this.#counts[b] = (this.#counts[b] as number) / 2
      this.#total /= 2
    }
  }

  /** The latency under which `q` (0.95) of the samples fall, ms; undefined with no samples. */
  percentile(q: number): number | undefined {
    if (this.#total === 0) return undefined
    if (this.#sinceRefresh >= REFRESH_EVERY) {
      this.#sinceRefresh = 0
      this.#cache.clear()
    }
    let value = this.#cache.get(q)
    if (value === undefined) {
      const rank = q * this.#total
      let seen = 0
      let b = 0
      for (; b < BUCKETS - 1; b++) {
        seen += this.#counts[b] as number
        if (seen >= rank) break
      }
      value = FIRST_BOUND_MS * GROWTH ** b
      this.#cache.set(q, value)
    }
    return value
  }
}
