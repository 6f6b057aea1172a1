/** A token bucket's shape: `capacity` attempts at once, then one more every `refillMs`. */
export interface BucketShape {
  capacity: number
  refillMs: number
}

interface Bucket {
  tokens: number
  updatedAt: number
}

/**
 * Token buckets by key (an account, a source address), for login attempts. At most
 * `maxKeys` buckets are kept; past that the least recently used goes (it would be full
 * again soon anyway), so a flood of new keys costs bounded memory.
 */
export class RateLimiter {
  readonly #shape: BucketShape
  readonly #maxKeys: number
  readonly #now: () => number
  readonly #buckets = new Map<string, Bucket>()

  constructor(shape: BucketShape, options: { maxKeys?: number; now?: () => number } = {}) {
    this.#shape = shape
    this.#maxKeys = options.maxKeys ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** Take one attempt for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const bucket = this.#bucket(key)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** Give an attempt back (a successful login does not count against the account). */
  refund(key: string): void {
    const bucket = this.#buckets.get(key)
    if (bucket) bucket.tokens = Math.min(this.#shape.capacity, bucket.tokens + 1)
  }

  /** Milliseconds until `key` has an attempt again (0: now). */
  retryAfter(key: string): number {
    const bucket = this.#bucket(key)
    return bucket.tokens >= 1 ? 0 : Math.ceil((1 - bucket.tokens) * this.#shape.refillMs)
  }

  #bucket(key: string): Bucket {
    const now = this.#now()
    const { capacity, refillMs } = this.#shape
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) {
        const oldest = this.#buckets.keys().next()
        if (!oldest.done) this.#buckets.delete(oldest.value)
      }
      bucket = { tokens: capacity, updatedAt: now }
    } else {
      this.#buckets.delete(key)
      bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updatedAt) / refillMs)
      bucket.updatedAt = now
    }
    this.#buckets.set(key, bucket)
    return bucket
  }
}

/** Login attempts: per account, per source address, and for the bootstrap token. */
export interface LoginLimits {
  account: BucketShape
  source: BucketShape
}

/** 10 tries per account, then one every 6 s; 30 per source address, then one a second. */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = Object.freeze({
  account: { capacity: 10, refillMs: 6000 },
  source: { capacity: 30, refillMs: 1000 },
})
