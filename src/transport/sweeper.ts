import type { ServerLimits } from './limits.js'

/** Something a Sweeper looks at on every tick. */
export interface Swept {
  sweep(): void
}

/** Limits as connections check them: counts of sweeps instead of milliseconds. */
export interface ConnectionBounds {
  maxBytes: number
  maxCalls: number
  /** The timeouts in ms, for messages. */
  headerTimeout: number
  requestTimeout: number
  /** Sweeps in a row a head or frame header may be pending (Infinity: no limit). */
  headerSweeps: number
  /** Sweeps in a row a body or the rest of a frame may be pending. */
  requestSweeps: number
  /** Sweeps in a row a connection may sit with nothing in flight. */
  idleSweeps: number
}

const MIN_PERIOD_MS = 20
const MAX_PERIOD_MS = 1000

/**
 * One interval per listener instead of a timer per connection, frame or request: each tick
 * every connection compares what it is waiting for with what it saw on the previous tick
 * (see Stall). The interval runs only while there are connections, and never keeps the
 * process alive.
 */
export class Sweeper {
  readonly period: number
  readonly bounds: ConnectionBounds
  readonly #items = new Set<Swept>()
  #timer: NodeJS.Timeout | undefined

  constructor(limits: ServerLimits) {
    const finite = [limits.headerTimeout, limits.requestTimeout, limits.idleTimeout].filter(Number.isFinite)
    const shortest = finite.length === 0 ? MAX_PERIOD_MS * 4 : Math.min(...finite)
    this.period = Math.min(MAX_PERIOD_MS, Math.max(MIN_PERIOD_MS, Math.floor(shortest / 4)))
    this.bounds = {
      maxBytes: limits.maxConnectionBytes,
      maxCalls: limits.maxConnectionCalls,
      headerTimeout: limits.headerTimeout,
      requestTimeout: limits.requestTimeout,
      headerSweeps: this.sweepsFor(limits.headerTimeout),
      requestSweeps: this.sweepsFor(limits.requestTimeout),
      idleSweeps: this.sweepsFor(limits.idleTimeout),
    }
  }

  /** Whether any timeout or byte budget is set: without one there is nothing to sweep. */
  get needed(): boolean {
    const b = this.bounds
    return (
      Number.isFinite(b.headerSweeps) ||
      Number.isFinite(b.requestSweeps) ||
      Number.isFinite(b.idleSweeps) ||
      Number.isFinite(b.maxBytes)
    )
  }

  add(item: Swept): void {
    if (!this.needed) return
    this.#items.add(item)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.period)
      this.#timer.unref()
    }
  }

  delete(item: Swept): void {
    this.#items.delete(item)
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    this.#items.clear()
  }

  /**
   * Consecutive sweeps that cover `ms`. A state is first seen up to one period after it
   * began, so counting from that sweep never expires anything early; it may be one or two
   * periods late.
   */
  sweepsFor(ms: number): number {
    return Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / this.period)) : Number.POSITIVE_INFINITY
  }

  #tick(): void {
    if (this.#items.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    for (const item of this.#items) item.sweep()
  }
}

/** What a connection is waiting for, as a sweep sees it. */
export const Phase = {
  /** Nothing the peer owes us: calls in flight, or replies it is slow to read while they run. */
  None: 0,
  /** The peer owes the rest of a request head or frame header (or its first byte). */
  Head: 1,
  /** The peer owes the rest of a request body or frame. */
  Body: 2,
  /** Nothing in flight. */
  Idle: 3,
  /** We stopped reading (handlers are behind): no timeout, but is the peer still there? */
  Held: 4,
} as const
export type Phase = (typeof Phase)[keyof typeof Phase]

/**
 * How long (in sweeps) a connection has been in one phase without progress. `mark` is any
 * counter that moves when the peer makes progress (frames completed, requests started).
 */
export class Stall {
  /** Nothing yet: the first sweep starts the count. */
  #phase = -1
  #mark = 0
  #sweeps = 0

  /** Record one sweep; returns the sweeps in a row seen in `phase` with `mark` unchanged. */
  observe(phase: Phase, mark: number): number {
    if (phase !== this.#phase || mark !== this.#mark) {
      this.#phase = phase
      this.#mark = mark
      this.#sweeps = 0
    } else {
      this.#sweeps++
    }
    return this.#sweeps
  }

  /** Whether `phase` has lasted past its limit in `bounds`. */
  static expired(phase: Phase, sweeps: number, bounds: ConnectionBounds): boolean {
    switch (phase) {
      case Phase.Head:
        return sweeps >= bounds.headerSweeps
      case Phase.Body:
        return sweeps >= bounds.requestSweeps
      case Phase.Idle:
        return sweeps >= bounds.idleSweeps
      default:
        return false
    }
  }
}
