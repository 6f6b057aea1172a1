import type { MicroError } from '../errors/errors.js'
import { durationOf } from './duration.js'
import { LatencyHistogram } from './latency.js'
import type { HedgingSpec } from './policy.js'

/** Samples an endpoint needs before its percentile replaces `initialDelay`. */
const MIN_SAMPLES = 20

/** Hedging settings, parsed once per named policy. */
export class HedgingSettings {
  /** The percentile to wait for (0.95), or undefined for a fixed delay. */
  readonly percentile: number | undefined
  readonly fixed: number
  readonly initialDelay: number
  readonly maxAttempts: number

  constructor(spec: HedgingSpec, where: string) {
    const delay = spec.delay ?? 'p95'
    const match = typeof delay === 'string' ? /^p(\d{1,2}(?:\.\d+)?)$/.exec(delay.trim()) : null
    this.percentile = match ? Number(match[1]) / 100 : undefined
    this.fixed = match ? 0 : durationOf(delay, 0, `${where}.delay`)
    this.initialDelay = durationOf(spec.initialDelay, 10, `${where}.initialDelay`)
    this.maxAttempts = spec.maxAttempts ?? 2
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 2) {
      throw new TypeError(`${where}.maxAttempts must be a whole number >= 2`)
    }
  }
}

/** One endpoint's hedging: its settings and the latencies it has seen. */
export class Hedging {
  readonly settings: HedgingSettings
  readonly latencies = new LatencyHistogram()

  constructor(settings: HedgingSettings) {
    this.settings = settings
  }

  /** How long to wait for an attempt before sending the next one, ms. */
  delay(): number {
    const s = this.settings
    if (s.percentile === undefined) return s.fixed
    if (this.latencies.samples < MIN_SAMPLES) return s.initialDelay
    return this.latencies.percentile(s.percentile) ?? s.initialDelay
  }
}

/** One attempt of a hedged call: started with its own abort signal. */
export type HedgedAttempt<T> = (signal: AbortSignal) => Promise<T>

/**
 * Race attempts: start one; each time `delay` passes without an answer start another (at
 * most `maxAttempts` in flight in all, while `next` can make one); the first success wins
 * and the others are aborted (`lost` is their reason). When every attempt started has
 * failed and no more will start, the last failure is the result.
 */
export function race<T>(
  next: () => HedgedAttempt<T> | undefined,
  delay: number,
  maxAttempts: number,
  signal: AbortSignal | undefined,
  lost: () => MicroError,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controllers: AbortController[] = []
    let pending = 0
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let lastError: unknown
    const finish = () => {
      settled = true
      if (timer) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    const onAbort = () => {
      for (const c of controllers) c.abort(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const launch = (): boolean => {
      const attempt = next()
      if (attempt === undefined) return false
      const controller = new AbortController()
      if (signal?.aborted) controller.abort(signal.reason)
      controllers.push(controller)
      pending++
      attempt(controller.signal).then(
        (value) => {
          pending--
          if (settled) return
          finish()
          for (const c of controllers) if (c !== controller) c.abort(lost())
          resolve(value)
        },
        (error: unknown) => {
          pending--
          lastError = error
          if (settled || pending > 0) return
          finish()
          reject(error)
        },
      )
      return true
    }
    const hedge = () => {
      timer = undefined
      if (settled || controllers.length >= maxAttempts) return
      if (launch() && controllers.length < maxAttempts) timer = setTimeout(hedge, delay)
    }
    if (!launch()) {
      finish()
      reject(lastError)
      return
    }
    if (maxAttempts > 1) timer = setTimeout(hedge, delay)
  })
}
