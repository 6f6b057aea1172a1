/** A per-client token bucket: `rate` requests a second on average, bursts up to `burst`. */
export interface RateLimitOptions {
  /** Tokens added per second. */
  rate: number
  /** Bucket size: requests a client may make at once after being idle. Default 2 x rate. */
  burst?: number
  /** Clients tracked at once; past it the longest-tracked is forgotten. Default 10 000. */
  maxClients?: number
}

interface Bucket {
  tokens: number
  /** performance.now() of the last refill. */
  at: number
}

/**
 * Token buckets per client address. IPv4 clients are limited per address, IPv6 clients per
 * /64 (one host usually holds a whole /64). The table is bounded: when full, the client
 * tracked longest is dropped (it starts again with a full bucket), so memory stays flat
 * however many addresses a flood comes from.
 */
export class RateLimiter {
  readonly #rate: number
  readonly #burst: number
  readonly #max: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(options: RateLimitOptions) {
    if (!(options.rate > 0))
      throw new TypeError(`rate limit must be above 0 requests a second, not ${options.rate}`)
    this.#rate = options.rate / 1000
    this.#burst = Math.max(1, options.burst ?? options.rate * 2)
    this.#max = options.maxClients ?? 10_000
  }

  /** Take a token for `address`; false when its bucket is empty (answer 429). */
  take(address: string | undefined, now = performance.now()): boolean {
    const key = clientKey(address)
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value as string)
      bucket = { tokens: this.#burst, at: now }
      this.#buckets.set(key, bucket)
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#rate)
      bucket.at = now
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** Whole seconds until `address` has a token again (for Retry-After). */
  retryAfter(address: string | undefined): number {
    const bucket = this.#buckets.get(clientKey(address))
    if (!bucket || bucket.tokens >= 1) return 0
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate / 1000))
  }

  /** Clients tracked now. */
  get size(): number {
    return this.#buckets.size
  }
}

/** The key a client is limited by: its IPv4 address, or the /64 of its IPv6 address. */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return ''
  if (!address.includes(':')) return address
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7)
  const [head = '', tail] = address.split('::', 2)
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((g) => (g.replace(/^0+/, '') || '0').toLowerCase())
    .join(':')}::/64`
}
