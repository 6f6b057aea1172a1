import { canceled, MicroError } from '../errors/errors.js'
import type { ServiceRecord } from '../registry/registry.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'

/** The call a retry decision is about. */
export interface RetryCall {
  service: string
  endpoint: string
  /** The endpoint says running it twice is harmless (`endpoint({ idempotent: true })`, from the registry). */
  idempotent: boolean
}

/** How a client retries a failed call on another node (`createService({ retry })`): attempts, back-off and which errors qualify. */
export interface RetryOptions {
  /** Attempts after the first. Default 2. */
  retries?: number
  /** First back-off, ms; doubles per attempt, with full jitter. Default 50. */
  backoffBase?: number
  /** Longest back-off, ms. Default 1000. */
  backoffMax?: number
  /** Which errors to retry, on another node when there is one. Default: `retryOnUnavailable`. */
  retryOn?: (error: MicroError, attempt: number, call: RetryCall) => boolean
}

/**
 * The default: retry when the call never reached a server (cannot connect) or a server
 * answered 503 (draining, overloaded) without running it. A connection lost after the
 * request was sent (the node died) is retried only for an idempotent endpoint, since the
 * handler may have run.
 */
export function retryOnUnavailable(error: MicroError, _attempt?: number, call?: RetryCall): boolean {
  if (isUnsent(error)) return true
  if (error.code !== 503) return false
  return !isLost(error) || call?.idempotent === true
}

/** Never retry. */
export const retryNever = (): boolean => false

/** A resolved retry policy. */
export class RetryPolicy {
  readonly retries: number
  readonly #base: number
  readonly #max: number
  readonly #retryOn: (error: MicroError, attempt: number, call: RetryCall) => boolean

  constructor(options: RetryOptions = {}) {
    this.retries = options.retries ?? 2
    this.#base = options.backoffBase ?? 50
    this.#max = options.backoffMax ?? 1000
    this.#retryOn = options.retryOn ?? retryOnUnavailable
  }

  shouldRetry(error: unknown, attempt: number, call: RetryCall): boolean {
    return error instanceof MicroError && this.#retryOn(error, attempt, call)
  }

  /** Full-jitter exponential back-off before attempt `attempt` (1-based). */
  backoff(attempt: number): number {
    const cap = Math.min(this.#max, this.#base * 2 ** (attempt - 1))
    return Math.random() * cap
  }
}

/**
 * Wait `ms` before the next attempt of a call to `endpoint`; rejects with a 499 as soon as
 * `signal` aborts (the caller gave up: no point sleeping on).
 */
export function pauseBeforeRetry(
  ms: number,
  signal: AbortSignal | undefined,
  endpoint: string,
): Promise<void> {
  const gaveUp = () => canceled('micro.client', `call to ${endpoint} was canceled`)
  if (signal?.aborted) return Promise.reject(gaveUp())
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(gaveUp())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Whether `endpoint` is idempotent on the node `nodeId`, from the registry records the
 * call was routed with (the record that lists the node: versions may differ).
 */
export function idempotentOn(
  records: readonly ServiceRecord[] | undefined,
  nodeId: string,
  endpoint: string,
): boolean {
  if (records === undefined) return false
  for (const record of records) {
    if (!record.nodes.some((n) => n.id === nodeId)) continue
    return record.endpoints.some((e) => e.name === endpoint && e.metadata.idempotent === 'true')
  }
  return false
}
