import { MicroError } from '../errors/errors.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'
import { codeMatcher, isRefusedHere, retryAfterMs } from './codes.js'
import { durationOf } from './duration.js'
import type { RetrySpec } from './policy.js'

const DEFAULT_CODES = [429, 502, 503, 504]

/**
 * A named retry policy: how many attempts, how long between them, which errors. It never
 * repeats a call that may have run unless the endpoint is idempotent: an error is retried
 * when the call never reached a server, or a server refused it before running it (429, a
 * 503 that is not a lost connection), or the endpoint is idempotent; and only when the
 * error's code matches.
 */
export class RetryRule {
  readonly maxRetries: number
  readonly #constant: boolean
  readonly #base: number
  readonly #max: number
  readonly #matches: (code: number) => boolean

  constructor(spec: RetrySpec, where: string) {
    const max = spec.maxRetries ?? 3
    if (!Number.isInteger(max) || max < -1)
      throw new TypeError(`${where}.maxRetries must be an integer >= -1`)
    this.maxRetries = max === -1 ? Number.POSITIVE_INFINITY : max
    if (spec.policy !== undefined && spec.policy !== 'constant' && spec.policy !== 'exponential') {
      throw new TypeError(
        `${where}.policy must be constant or exponential, not ${JSON.stringify(spec.policy)}`,
      )
    }
    this.#constant = spec.policy === 'constant'
    this.#base = durationOf(spec.duration, 50, `${where}.duration`)
    this.#max = durationOf(spec.maxInterval, 2000, `${where}.maxInterval`)
    this.#matches = codeMatcher(
      spec.matching?.codes,
      spec.matching?.grpcCodes,
      DEFAULT_CODES,
      `${where}.matching`,
    )
  }

  /** Whether `error` after attempt number `attempt` (1 = the first) may be retried. */
  shouldRetry(error: unknown, attempt: number, idempotent: boolean): boolean {
    if (attempt > this.maxRetries || !(error instanceof MicroError) || isRefusedHere(error)) return false
    if (isUnsent(error)) return true
    if (!this.#matches(error.code)) return false
    if (idempotent) return true
    return error.code === 429 || (error.code === 503 && !isLost(error))
  }

  /** The pause before attempt `attempt + 1`; at least what a 429 asked for. */
  backoff(attempt: number, error: unknown): number {
    const pause = this.#constant
      ? this.#base
      : Math.random() * Math.min(this.#max, this.#base * 2 ** Math.min(30, attempt - 1))
    return Math.max(pause, retryAfterMs(error) ?? 0)
  }
}
