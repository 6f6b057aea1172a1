import { newError } from '../errors/errors.js'
import type { Context } from '../server/context.js'
import { durationOf } from './duration.js'
import type { RateLimitSpec } from './policy.js'

/** Callers remembered per caller-scoped limit; the oldest is forgotten past this. */
const MAX_CALLERS = 10_000

/** A rate limit's settings, parsed once per named policy. */
export class RateLimitSettings {
  readonly rate: number
  readonly per: number
  readonly burst: number
  readonly scope: 'endpoint' | 'caller'

  constructor(spec: RateLimitSpec, where: string) {
    if (!(typeof spec?.rate === 'number' && spec.rate > 0))
      throw new TypeError(`${where}.rate must be a number > 0`)
    this.rate = spec.rate
    this.per = durationOf(spec.per, 1000, `${where}.per`)
    this.burst = spec.burst ?? Math.max(1, Math.ceil(spec.rate))
    if (!(this.burst >= 1)) throw new TypeError(`${where}.burst must be >= 1`)
    if (spec.scope !== undefined && spec.scope !== 'endpoint' && spec.scope !== 'caller') {
      throw new TypeError(`${where}.scope must be endpoint or caller`)
    }
    this.scope = spec.scope ?? 'endpoint'
  }
}

/** A token bucket: `burst` tokens, refilled at `rate` per `per` ms. */
class Bucket {
  tokens: number
  at: number
  constructor(tokens: number, at: number) {
    this.tokens = tokens
    this.at = at
  }
}

/**
 * A server-side rate limit on one endpoint: one bucket for every caller, or one per caller
 * (the `micro-caller` metadata, else the remote address). A call over the limit is a 429
 * whose detail says when a token will be there (`retry after N ms`).
 */
export class RateLimiter {
  readonly #settings: RateLimitSettings
  readonly #name: string
  readonly #perMs: number
  readonly #shared: Bucket | undefined
  readonly #byCaller = new Map<string, Bucket>()
  /** The last caller's bucket: a connection's calls mostly come from one caller. */
  #lastCaller: string | undefined
  #lastBucket: Bucket | undefined

  constructor(settings: RateLimitSettings, name: string) {
    this.#settings = settings
    this.#name = name
    this.#perMs = settings.rate / settings.per
    this.#shared = settings.scope === 'endpoint' ? new Bucket(settings.burst, Date.now()) : undefined
  }

  /**
   * Take a token for a call; throws a 429 when there is none. `now` (epoch ms) lets several
   * limits of one call share a clock reading.
   */
  take(ctx: Pick<Context, 'metadata' | 'remote'>, service: string, now = Date.now()): void {
    let bucket = this.#shared
    let who = 'all callers'
    if (bucket === undefined) {
      who = ctx.metadata['micro-caller'] || hostOf(ctx.remote) || 'anonymous'
      bucket = who === this.#lastCaller ? this.#lastBucket : this.#byCaller.get(who)
      if (bucket === undefined) {
        if (this.#byCaller.size >= MAX_CALLERS) {
          const oldest = this.#byCaller.keys().next().value as string
          this.#byCaller.delete(oldest)
          if (oldest === this.#lastCaller) this.#lastCaller = undefined
        }
        bucket = new Bucket(this.#settings.burst, now)
        this.#byCaller.set(who, bucket)
      }
      this.#lastCaller = who
      this.#lastBucket = bucket
    }
    const s = this.#settings
    bucket.tokens = Math.min(s.burst, bucket.tokens + (now - bucket.at) * this.#perMs)
    bucket.at = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return
    }
    const wait = Math.ceil((1 - bucket.tokens) / this.#perMs)
    throw newError(
      service,
      `${this.#name}: rate limit of ${s.rate} per ${s.per} ms exceeded for ${who}; retry after ${wait} ms`,
      429,
    )
  }
}

function hostOf(remote: string | undefined): string | undefined {
  if (!remote) return undefined
  const colon = remote.lastIndexOf(':')
  return colon === -1 ? remote : remote.slice(0, colon)
}
