import type { MicroError } from '../errors/errors.js'
import { refusedHere } from './codes.js'
import { durationOf } from './duration.js'
import type { BulkheadSpec } from './policy.js'

/** A bulkhead's settings, parsed once per named policy. */
export class BulkheadSettings {
  readonly maxConcurrent: number
  readonly maxQueue: number
  readonly queueTimeout: number

  constructor(spec: BulkheadSpec, where: string) {
    if (!Number.isInteger(spec?.maxConcurrent) || spec.maxConcurrent < 1) {
      throw new TypeError(`${where}.maxConcurrent must be a whole number >= 1`)
    }
    this.maxConcurrent = spec.maxConcurrent
    this.maxQueue = spec.maxQueue ?? 0
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 0)
      throw new TypeError(`${where}.maxQueue must be >= 0`)
    this.queueTimeout = durationOf(spec.queueTimeout, 1000, `${where}.queueTimeout`)
  }
}

interface Waiter {
  resolve: () => void
  reject: (error: MicroError) => void
  timer: NodeJS.Timeout
}

/**
 * At most `maxConcurrent` calls at once for one endpoint; up to `maxQueue` more wait for a
 * slot (at most `queueTimeout`, never past the call's deadline); beyond that a call is
 * refused at once with a 503, so one slow endpoint cannot take every resource.
 */
export class Bulkhead {
  readonly #settings: BulkheadSettings
  readonly #name: string
  readonly #queue: Waiter[] = []
  #active = 0

  constructor(settings: BulkheadSettings, name: string) {
    this.#settings = settings
    this.#name = name
  }

  get active(): number {
    return this.#active
  }

  get queued(): number {
    return this.#queue.length
  }

  /** Take a slot if one is free now (no deadline needed: nothing waits). */
  tryAcquire(): boolean {
    if (this.#active < this.#settings.maxConcurrent && this.#queue.length === 0) {
      this.#active++
      return true
    }
    return false
  }

  /**
   * Take a slot. Undefined when one was free (taken now, no promise made); else a promise
   * that resolves once one is handed over. Throws (or rejects) a 503 when the queue is full
   * or the wait times out. Every successful acquire needs one `release`.
   */
  acquire(deadline: number | undefined, id: string): Promise<void> | undefined {
    const s = this.#settings
    if (this.#active < s.maxConcurrent) {
      this.#active++
      return undefined
    }
    if (this.#queue.length >= s.maxQueue) {
      throw refusedHere(
        id,
        `${this.#name}: ${s.maxConcurrent} calls in progress and ${s.maxQueue} waiting (bulkhead full)`,
      )
    }
    const wait = Math.max(
      0,
      Math.min(s.queueTimeout, deadline === undefined ? s.queueTimeout : deadline - Date.now()),
    )
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = this.#queue.indexOf(waiter)
          if (at !== -1) this.#queue.splice(at, 1)
          reject(refusedHere(id, `${this.#name}: no slot free within ${wait} ms (bulkhead full)`))
        }, wait),
      }
      this.#queue.push(waiter)
    })
  }

  /** Give a slot back: to the first waiter, if any. */
  release(): void {
    const next = this.#queue.shift()
    if (next === undefined) {
      this.#active--
      return
    }
    clearTimeout(next.timer)
    next.resolve()
  }
}
