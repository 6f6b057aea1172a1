import { MicroError } from '../errors/errors.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'
import { codeMatcher } from './codes.js'
import { durationOf } from './duration.js'
import type { CircuitBreakerSpec } from './policy.js'

const DEFAULT_FAILURE_CODES = [408, 500, 502, 503, 504]

/** A breaker's settings, parsed once per named policy. */
export class BreakerSettings {
  readonly scope: 'endpoint' | 'node'
  readonly consecutive: number | undefined
  readonly ratio: number | undefined
  readonly minRequests: number
  readonly interval: number
  readonly openFor: number
  readonly probes: number
  readonly #failureCode: (code: number) => boolean

  constructor(spec: CircuitBreakerSpec, where: string) {
    if (spec.scope !== undefined && spec.scope !== 'endpoint' && spec.scope !== 'node') {
      throw new TypeError(`${where}.scope must be endpoint or node`)
    }
    this.scope = spec.scope ?? 'endpoint'
    const fromTrip = spec.trip === undefined ? undefined : parseTrip(spec.trip, `${where}.trip`)
    this.consecutive = spec.consecutiveFailures ?? fromTrip
    if (this.consecutive !== undefined && (!Number.isInteger(this.consecutive) || this.consecutive < 1)) {
      throw new TypeError(`${where}.consecutiveFailures must be a whole number >= 1`)
    }
    this.ratio = spec.failureRatio
    if (this.ratio !== undefined && !(this.ratio > 0 && this.ratio <= 1)) {
      throw new TypeError(`${where}.failureRatio must be above 0 and at most 1`)
    }
    if (this.consecutive === undefined && this.ratio === undefined) this.consecutive = 5
    this.minRequests = spec.minRequests ?? 10
    this.interval = durationOf(spec.interval, 10_000, `${where}.interval`)
    this.openFor = durationOf(spec.timeout, 5000, `${where}.timeout`)
    this.probes = spec.maxRequests ?? 1
    if (!Number.isInteger(this.probes) || this.probes < 1)
      throw new TypeError(`${where}.maxRequests must be >= 1`)
    this.#failureCode = codeMatcher(spec.codes, undefined, DEFAULT_FAILURE_CODES, `${where}.codes`)
  }

  /** Whether an outcome counts against the breaker: undefined for outcomes that say nothing (the caller gave up). */
  failed(error: unknown): boolean | undefined {
    if (error === undefined) return false
    if (isUnsent(error) || isLost(error)) return true
    if (!(error instanceof MicroError)) return true
    if (error.code === 499) return undefined
    return this.#failureCode(error.code)
  }
}

/** `consecutiveFailures > 5` or `>= 5` (Dapr's trip expression, the form it documents). */
function parseTrip(trip: string, where: string): number {
  const match = /^\s*consecutiveFailures\s*(>=|>)\s*(\d+)\s*$/.exec(trip)
  if (!match)
    throw new TypeError(`${where}: use "consecutiveFailures > N" (or set consecutiveFailures / failureRatio)`)
  return match[1] === '>=' ? Math.max(1, Number(match[2])) : Number(match[2]) + 1
}

/**
 * One circuit breaker. Closed: calls pass and failures are counted; it opens after
 * `consecutive` failures in a row, or when the failure ratio over `interval` passes `ratio`.
 * Open: calls fail fast for `openFor`. Half-open: `probes` calls pass; as many successes
 * close it, one failure opens it again.
 */
export class CircuitBreaker {
  readonly #settings: BreakerSettings
  #state: 'closed' | 'open' | 'half-open' = 'closed'
  #consecutive = 0
  #windowStart = 0
  #requests = 0
  #failures = 0
  #openUntil = 0
  #probesSent = 0
  #probesOk = 0

  constructor(settings: BreakerSettings) {
    this.#settings = settings
  }

  get state(): 'closed' | 'open' | 'half-open' {
    return this.#state
  }

  /** Whether a call would be let through now, without taking a probe slot. */
  available(now: number): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open') return now >= this.#openUntil
    return this.#probesSent < this.#settings.probes
  }

  /** Let a call through (true) or refuse it (false); half-open, it takes a probe slot. */
  allow(now: number): boolean {
    if (this.#state === 'closed') return true
    if (this.#state === 'open') {
      if (now < this.#openUntil) return false
      this.#state = 'half-open'
      this.#probesSent = 0
      this.#probesOk = 0
    }
    if (this.#probesSent >= this.#settings.probes) return false
    this.#probesSent++
    return true
  }

  /** A call it let through succeeded (cheaper than `record(undefined, now)`: closed, no clock read). */
  succeeded(): void {
    if (this.#state === 'closed' && this.#settings.ratio === undefined) {
      this.#consecutive = 0
      return
    }
    this.record(undefined, Date.now())
  }

  /** The outcome of a call it let through. */
  record(error: unknown, now: number): void {
    const failed = this.#settings.failed(error)
    if (failed === undefined) {
      if (this.#state === 'half-open') this.#probesSent = Math.max(0, this.#probesSent - 1)
      return
    }
    if (this.#state === 'half-open') {
      if (failed) this.#open(now)
      else if (++this.#probesOk >= this.#settings.probes) this.#close()
      return
    }
    if (this.#state === 'open') return
    const s = this.#settings
    this.#consecutive = failed ? this.#consecutive + 1 : 0
    if (s.consecutive !== undefined && this.#consecutive >= s.consecutive) {
      this.#open(now)
      return
    }
    if (s.ratio !== undefined) {
      if (now - this.#windowStart > s.interval) {
        this.#windowStart = now
        this.#requests = 0
        this.#failures = 0
      }
      this.#requests++
      if (failed) this.#failures++
      if (this.#requests >= s.minRequests && this.#failures / this.#requests >= s.ratio) this.#open(now)
    }
  }

  #open(now: number): void {
    this.#state = 'open'
    this.#openUntil = now + this.#settings.openFor
    this.#consecutive = 0
    this.#requests = 0
    this.#failures = 0
  }

  #close(): void {
    this.#state = 'closed'
    this.#consecutive = 0
    this.#windowStart = 0
    this.#requests = 0
    this.#failures = 0
  }
}
