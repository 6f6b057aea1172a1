const RESOLUTION_MS = 5

/** A scheduled expiry; pass it to `cancel`. */
export interface DeadlineEntry {
  bucket: number
  fire: () => void
}

/**
 * Many deadlines on one timer. Calls are tracked in buckets of a few milliseconds and a
 * single Node timer is armed for the earliest bucket, so adding and cancelling a deadline
 * per call costs a Set insert and delete, not a timer each.
 */
export class DeadlineTimer {
  readonly #buckets = new Map<number, Set<DeadlineEntry>>()
  /** Bucket keys in ascending order; new deadlines are nearly always appended. */
  readonly #order: number[] = []
  #timer: NodeJS.Timeout | undefined
  #armedFor = Number.POSITIVE_INFINITY
  /** Deadlines scheduled and neither fired nor cancelled: while any are, the timer keeps the process alive. */
  #live = 0

  /** Run `fire` at (or a few ms after) the epoch-ms `deadline`, unless cancelled first. */
  schedule(deadline: number, fire: () => void): DeadlineEntry {
    const bucket = Math.ceil(deadline / RESOLUTION_MS) * RESOLUTION_MS
    const entry: DeadlineEntry = { bucket, fire }
    let set = this.#buckets.get(bucket)
    if (!set) {
      set = new Set()
      this.#buckets.set(bucket, set)
      this.#insertKey(bucket)
      if (bucket < this.#armedFor) this.#arm(bucket)
    }
    set.add(entry)
    if (this.#live++ === 0) this.#timer?.ref()
    return entry
  }

  cancel(entry: DeadlineEntry): void {
    const set = this.#buckets.get(entry.bucket)
    // Empty buckets are dropped lazily when the timer reaches them.
    if (set?.delete(entry) && --this.#live === 0) this.#timer?.unref()
  }

  #insertKey(bucket: number): void {
    const order = this.#order
    let i = order.length
    while (i > 0 && (order[i - 1] as number) > bucket) i--
    order.splice(i, 0, bucket)
  }

  #arm(bucket: number): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#armedFor = bucket
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, bucket - Date.now()))
    // A call waiting on its deadline must keep the process alive to report the timeout;
    // with nothing pending the timer must not hold the process open.
    if (this.#live === 0) this.#timer.unref()
  }

  #tick(): void {
    this.#timer = undefined
    this.#armedFor = Number.POSITIVE_INFINITY
    const now = Date.now()
    const order = this.#order
    let due = 0
    while (due < order.length && (order[due] as number) <= now) due++
    const keys = order.splice(0, due)
    for (const key of keys) {
      const set = this.#buckets.get(key)
      this.#buckets.delete(key)
      if (!set) continue
      this.#live -= set.size
      for (const entry of set) {
        try {
          entry.fire()
        } catch {
          // a deadline callback must not stop the others from firing
        }
      }
    }
    // Skip buckets that were emptied by cancel.
    while (order.length > 0 && this.#buckets.get(order[0] as number)?.size === 0) {
      this.#buckets.delete(order.shift() as number)
    }
    const next = order[0]
    if (next !== undefined) this.#arm(next)
    else if (this.#live !== 0) this.#live = 0
  }
}

/** The process-wide deadline timer shared by clients and servers. */
export const deadlines = new DeadlineTimer()
