/** A token bucket: `rate` calls a second on average, bursts up to `burst` (default 2 x rate). */
export interface ToolRateLimit {
  rate: number
  burst?: number
}

/** Rate limits of the tools: one for every tool, and overrides by tool name (`false`: none). */
export interface ToolRateLimits {
  /** Default 100 calls a second, bursts of 200, per tool; `false` for none. */
  default?: ToolRateLimit | false
  /** By tool name: `{ orders_Orders_Create: { rate: 5 } }`, or `false` to exempt one. */
  tools?: Readonly<Record<string, ToolRateLimit | false>>
}

interface Bucket {
  rate: number
  burst: number
  tokens: number
  /** performance.now() of the last refill. */
  at: number
}

const DEFAULT_LIMIT: ToolRateLimit = { rate: 100, burst: 200 }

/**
 * One token bucket per tool, shared by every caller and transport, so a tool's service sees at
 * most what its limit lets through (Go Micro 6's per-tool limit). Buckets exist only for tools
 * that were called, and at most `maxTools` of them (the oldest is dropped past it).
 */
export class ToolLimiter {
  readonly #default: ToolRateLimit | false
  readonly #tools: Readonly<Record<string, ToolRateLimit | false>>
  readonly #buckets = new Map<string, Bucket>()
  readonly #maxTools: number

  constructor(limits: ToolRateLimits = {}, maxTools = 10_000) {
    this.#default = limits.default === undefined ? DEFAULT_LIMIT : limits.default
    this.#tools = limits.tools ?? {}
    for (const [name, limit] of Object.entries({ default: this.#default, ...this.#tools })) {
      if (limit !== false && !(limit.rate > 0))
        throw new TypeError(`rate limit of ${name} must be above 0 calls a second, not ${limit.rate}`)
    }
    this.#maxTools = maxTools
  }

  /** Take a token for `tool`: 0 when granted, else the ms until one is there. */
  take(tool: string, now = performance.now()): number {
    const limit = Object.hasOwn(this.#tools, tool) ? this.#tools[tool] : this.#default
    if (limit === false || limit === undefined) return 0
    let bucket = this.#buckets.get(tool)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxTools)
        this.#buckets.delete(this.#buckets.keys().next().value as string)
      const burst = Math.max(1, limit.burst ?? limit.rate * 2)
      bucket = { rate: limit.rate / 1000, burst, tokens: burst, at: now }
      this.#buckets.set(tool, bucket)
    } else {
      bucket.tokens = Math.min(bucket.burst, bucket.tokens + (now - bucket.at) * bucket.rate)
      bucket.at = now
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / bucket.rate))
  }
}
