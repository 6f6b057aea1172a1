import type { MicroError } from '../errors/errors.js'
import { AttemptSignal } from './attempt-signal.js'
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
  /** Calls raced, and extra attempts (hedges) they sent: the price hedging pays. */
  readonly counts = { calls: 0, hedges: 0 }

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

/** One attempt of a hedged call: started with its own abort signal, at `launchedAt` (performance.now()). */
export type HedgedAttempt<T> = (signal: AbortSignal, launchedAt: number) => Promise<T>

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
    const signals: AttemptSignal[] = []
    let pending = 0
    let settled = false
    let timer: NodeJS.Timeout | undefined
    let launchedAt = 0
    // Only a call with a signal of its own needs to hear it abort.
    const onAbort =
      signal === undefined
        ? undefined
        : () => {
            for (const s of signals) s.abort(signal.reason)
          }
    const finish = () => {
      settled = true
      if (timer) clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
    if (onAbort !== undefined) signal?.addEventListener('abort', onAbort, { once: true })
    const launch = (): boolean => {
      const attempt = next()
      if (attempt === undefined) return false
      const own = new AttemptSignal()
      launchedAt = performance.now()
      if (signal?.aborted) own.abort(signal.reason)
      signals.push(own)
      pending++
      attempt(own.asSignal(), launchedAt).then(
        (value) => {
          pending--
          if (settled) return
          finish()
          for (const s of signals) if (s !== own) s.abort(lost())
          resolve(value)
        },
        (error: unknown) => {
          pending--
          if (settled || pending > 0) return
          finish()
          reject(error)
        },
      )
      return true
    }
    const hedge = () => {
      if (settled || signals.length >= maxAttempts) return
      if (launch() && signals.length < maxAttempts) timer = setTimeout(due, delay)
    }
    // A timer can fire early: node keeps time for timers in whole ms, so a 1.5 ms timer fires
    // 1 to 2 ms after it was set. And timers run before the loop reads sockets, so an answer
    // already received would lose to its own hedge whenever a turn ran past the delay. Under
    // load that hedged 40% of calls at a p95 delay of about 1 ms; so the real time is checked,
    // and the hedge waits for this turn's I/O.
    const due = () => {
      timer = undefined
      if (settled) return
      const left = launchedAt + delay - performance.now()
      if (left > 0.05) timer = setTimeout(due, left)
      else setImmediate(hedge)
    }
    if (!launch()) {
      finish()
      reject(new TypeError('race needs a first attempt'))
      return
    }
    if (maxAttempts > 1) timer = setTimeout(due, delay)
  })
}
