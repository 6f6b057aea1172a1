import { MicroError } from '../errors/errors.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'

export interface RetryOptions {
  /** Attempts after the first. Default 2. */
  retries?: number
  /** First back-off, ms; doubles per attempt, with full jitter. Default 50. */
  backoffBase?: number
  /** Longest back-off, ms. Default 1000. */
  backoffMax?: number
  /** Which errors to retry, on another node when there is one. Default: `retryOnUnavailable`. */
  retryOn?: (error: MicroError, attempt: number) => boolean
}

/**
 * The default: retry when the call never reached a server (cannot connect) or a server
 * answered 503 (draining, overloaded) without running it. A connection lost after the
 * request was sent is not retried, since the handler may have run.
 */
export function retryOnUnavailable(error: MicroError): boolean {
  if (isUnsent(error)) return true
  return error.code === 503 && !isLost(error)
}

/** Never retry. */
export const retryNever = (): boolean => false

/** A resolved retry policy. */
export class RetryPolicy {
  readonly retries: number
  readonly #base: number
  readonly #max: number
  readonly #retryOn: (error: MicroError, attempt: number) => boolean

  constructor(options: RetryOptions = {}) {
    this.retries = options.retries ?? 2
    this.#base = options.backoffBase ?? 50
    this.#max = options.backoffMax ?? 1000
    this.#retryOn = options.retryOn ?? retryOnUnavailable
  }

  shouldRetry(error: unknown, attempt: number): boolean {
    return error instanceof MicroError && this.#retryOn(error, attempt)
  }

  /** Full-jitter exponential back-off before attempt `attempt` (1-based). */
  backoff(attempt: number): number {
    const cap = Math.min(this.#max, this.#base * 2 ** (attempt - 1))
    return Math.random() * cap
  }
}
