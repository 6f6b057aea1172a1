import { canceled, MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { AsyncQueue } from '../util/async-queue.js'
import type { EventConsumer, ReceivedEvent } from './events.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { ConsumePlan } from './options.js'
import { decodePayload } from './payload.js'
import { type Delivery, type DeliverySource, isFatal } from './source.js'

const MIN_BACKOFF = 100
const MAX_BACKOFF = 2000

/** A delivery this consumer holds: fetched ahead (not taken) or taken and not yet settled. */
interface Held {
  delivery: Delivery
  taken: boolean
  settled: boolean
  /** When the engine will have given it to someone else (claimed + ackWait). */
  expires: number
}

/**
 * The consumer loop every implementation shares: it pulls deliveries from the engine's
 * source while it holds fewer than `maxInFlight`, dead-letters what is out of retries or
 * cannot be decoded, hands the rest to the iterator, acks on take in auto mode, and gives
 * back what it fetched but never handed out when it stops. Connection failures are
 * retried with back-off; only a MicroError below 500 ends the iteration with an error.
 */
export class StreamConsumer<T> implements EventConsumer<T> {
  readonly ready: Promise<void>
  /** Resolves once the consumer has stopped and its source is closed. */
  readonly closed: Promise<void>
  readonly #source: DeliverySource
  readonly #plan: ConsumePlan
  readonly #logger: Logger
  readonly #queue = new AsyncQueue<ReceivedEvent<T>>()
  readonly #held = new Set<Held>()
  readonly #byEvent = new WeakMap<ReceivedEvent<T>, Held>()
  readonly #stop = new AbortController()
  #wake: (() => void) | undefined

  constructor(source: DeliverySource, plan: ConsumePlan, logger: Logger) {
    this.#source = source
    this.#plan = plan
    this.#logger = logger
    let started!: () => void
    let failed!: (error: unknown) => void
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve
      failed = reject
    })
    // Nobody has to look at `ready`: a failure also ends the iteration with the error.
    this.ready.catch(() => {})
    if (plan.signal?.aborted) this.stop()
    else plan.signal?.addEventListener('abort', () => this.stop(), { once: true })
    this.closed = this.#run(started, failed)
  }

  stop(): void {
    if (this.#stop.signal.aborted) return
    this.#stop.abort()
    this.#queue.return()
    this.#wake?.()
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedEvent<T>> {
    return {
      next: async () => {
        const result = await this.#queue.next()
        if (!result.done) this.#take(result.value)
        return result
      },
      return: async () => {
        this.stop()
        return { done: true, value: undefined }
      },
    }
  }

  async #run(started: () => void, failed: (error: unknown) => void): Promise<void> {
    const signal = this.#stop.signal
    try {
      await this.#retrying(() => this.#source.start())
      if (signal.aborted) throw canceled(EVENTS_ERROR_ID, 'the consumer stopped before it started')
      started()
      let backoff = MIN_BACKOFF
      while (!signal.aborted) {
        const room = await this.#room()
        if (room === 0) continue
        try {
          for await (const delivery of this.#source.pull(room, signal)) {
            backoff = MIN_BACKOFF
            await this.#accept(delivery)
          }
        } catch (error) {
          if (signal.aborted) break
          if (isFatal(error)) throw error
          this.#warn('consuming failed; retrying', error)
          await this.#pause(backoff)
          backoff = Math.min(backoff * 2, MAX_BACKOFF)
        }
      }
    } catch (error) {
      const failure = MicroError.from(error, EVENTS_ERROR_ID)
      failed(failure)
      this.#queue.fail(failure)
      this.#stop.abort()
    } finally {
      for (const held of this.#held) {
        if (held.taken || held.settled) continue
        held.settled = true
        held.delivery.release().catch((error) => this.#warn('giving an event back failed', error))
      }
      this.#held.clear()
      await this.#source.close().catch((error) => this.#warn('closing the consumer failed', error))
    }
  }

  /** Run `start` until it succeeds, waiting between attempts that fail for a reason that may pass. */
  async #retrying(start: () => Promise<void>): Promise<void> {
    let backoff = MIN_BACKOFF
    for (;;) {
      try {
        return await start()
      } catch (error) {
        if (isFatal(error) || this.#stop.signal.aborted) throw error
        this.#warn('starting the consumer failed; retrying', error)
        await this.#pause(backoff)
        backoff = Math.min(backoff * 2, MAX_BACKOFF)
      }
    }
  }

  /** How many more deliveries the consumer may take now, waiting for a slot; 0 once stopped. */
  async #room(): Promise<number> {
    for (;;) {
      if (this.#stop.signal.aborted) return 0
      const now = Date.now()
      let live = 0
      let nextExpiry = Number.POSITIVE_INFINITY
      for (const held of this.#held) {
        // A taken event past its ackWait belongs to whoever the engine gave it to next.
        if (held.settled || (held.taken && held.expires <= now)) {
          this.#held.delete(held)
          continue
        }
        live++
        if (held.taken) nextExpiry = Math.min(nextExpiry, held.expires)
      }
      if (live < this.#plan.maxInFlight) return this.#plan.maxInFlight - live
      await this.#pause(nextExpiry - now)
    }
  }

  async #accept(delivery: Delivery): Promise<void> {
    const plan = this.#plan
    if (delivery.attempt > plan.maxAttempts) {
      const reason = `not acknowledged within ${plan.ackWait} ms on delivery ${plan.maxAttempts} of ${plan.maxAttempts}`
      return this.#deadLetter(delivery, reason, false)
    }
    const decoded = decodePayload(delivery.event)
    if ('error' in decoded) return this.#deadLetter(delivery, decoded.error, true)
    const held: Held = { delivery, taken: false, settled: false, expires: Date.now() + plan.ackWait }
    const event = this.#received(held, decoded.payload as T)
    this.#held.add(held)
    this.#byEvent.set(event, held)
    this.#queue.push(event)
  }

  async #deadLetter(delivery: Delivery, reason: string, undecodable: boolean): Promise<void> {
    try {
      await delivery.deadLetter(reason, undecodable)
    } catch (error) {
      // Still pending in the group: it comes back after ackWait and is dead-lettered then.
      this.#warn('dead-lettering an event failed', error, { event: delivery.event.id })
    }
  }

  #received(held: Held, payload: T): ReceivedEvent<T> {
    const { event, attempt } = held.delivery
    return {
      id: event.id,
      topic: event.topic,
      sequence: event.sequence,
      timestamp: new Date(event.timestamp),
      metadata: event.metadata,
      contentType: event.contentType,
      payload,
      raw: event.data,
      attempt,
      ack: () => this.#settle(held, 'ack'),
      nack: (reason?: string) => this.#settle(held, 'nack', reason),
    }
  }

  #take(event: ReceivedEvent<T>): void {
    const held = this.#byEvent.get(event)
    if (!held) return
    held.taken = true
    if (this.#plan.ack === 'auto') {
      this.#settle(held, 'ack').catch((error) => this.#warn('acknowledging an event failed', error))
    }
  }

  async #settle(held: Held, how: 'ack' | 'nack', reason?: string): Promise<void> {
    if (held.settled) return
    held.settled = true
    this.#held.delete(held)
    this.#wake?.()
    const { delivery } = held
    const { maxAttempts } = this.#plan
    try {
      if (how === 'ack') return await delivery.ack()
      if (delivery.attempt < maxAttempts) return await delivery.nack()
      const why = `nacked on delivery ${delivery.attempt} of ${maxAttempts}${reason ? `: ${reason}` : ''}`
      return await delivery.deadLetter(why)
    } catch (error) {
      throw MicroError.from(error, EVENTS_ERROR_ID)
    }
  }

  /** Wait `ms` (forever when infinite), or until woken or stopped. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#stop.signal
      if (signal.aborted) return resolve()
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        if (this.#wake === done) this.#wake = undefined
        resolve()
      }
      if (Number.isFinite(ms)) timer = setTimeout(done, Math.max(0, ms))
      signal.addEventListener('abort', done, { once: true })
      this.#wake = done
    })
  }

  #warn(message: string, error: unknown, fields: Record<string, unknown> = {}): void {
    const { namespace, topic, group } = this.#plan
    this.#logger.warn(`events: ${message}`, { namespace, topic, group, ...fields, error })
  }
}
