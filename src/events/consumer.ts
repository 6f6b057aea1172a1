import { canceled, MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { AsyncQueue } from '../util/async-queue.js'
import type { EventConsumer, ReceivedEvent } from './events.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { ConsumePlan } from './options.js'
import { DecodeFailure, decodeValueWith } from './payload.js'
import { type Delivery, type DeliverySource, isFatal, SETTLED } from './source.js'

const MIN_BACKOFF = 100
const MAX_BACKOFF = 2000

/** A delivery this consumer holds: fetched ahead (not taken) or taken and not yet settled. */
class Held<T> {
  taken = false
  settled = false
  event: ReceivedEvent<T> | undefined
  readonly delivery: Delivery
  /** When the engine will have given it to someone else (claimed + ackWait). */
  readonly expires: number

  constructor(delivery: Delivery, expires: number) {
    this.delivery = delivery
    this.expires = expires
  }
}

/** A pull in progress: how many of the deliveries it asked for have not arrived yet. */
interface Pull {
  remaining: number
}

/**
 * The consumer loop every implementation shares. It keeps pulls going while it holds fewer
 * than `maxInFlight` events (counting those asked for and not yet arrived), overlapping
 * them when the source allows, so that the next events are on their way while the last
 * ones are processed. It dead-letters what is out of retries or cannot be decoded, hands the
 * rest to the iterator, acks on take in auto mode, and gives back what it fetched but never
 * handed out when it stops. Connection failures are retried with back-off; only a
 * MicroError below 500 ends the iteration with an error. Everything is driven by events
 * (a delivery, a settlement, a pull ending, a timer): nothing runs per event but the event.
 */
export class StreamConsumer<T> implements EventConsumer<T> {
  readonly ready: Promise<void>
  /** Resolves once the consumer has stopped and its source is closed. */
  readonly closed: Promise<void>
  readonly #source: DeliverySource
  readonly #plan: ConsumePlan
  readonly #logger: Logger
  /** Deliveries waiting for the iterator; each is taken (and auto-acked) as it is handed out. */
  readonly #queue: AsyncQueue<Held<T>, ReceivedEvent<T>>
  readonly #held = new Set<Held<T>>()
  readonly #stop = new AbortController()
  /** A pull is started while others are in progress only for at least this many events. */
  readonly #batch: number
  readonly #pulls = new Set<Promise<void>>()
  /** Dead letters being written: they count as in flight until done. */
  readonly #settling = new Set<Promise<void>>()
  /** Deliveries asked for and not arrived yet, over the pulls in progress. */
  #requested = 0
  #running = false
  #backoff = MIN_BACKOFF
  #resumeAt = 0
  #timer: NodeJS.Timeout | undefined
  #timerAt = 0
  #failure: unknown
  #halted!: () => void
  readonly #halt: Promise<void>

  constructor(source: DeliverySource, plan: ConsumePlan, logger: Logger) {
    this.#source = source
    this.#plan = plan
    this.#logger = logger
    this.#batch = Math.max(1, Math.floor(plan.maxInFlight / 4))
    this.#queue = new AsyncQueue({ take: (held) => this.#take(held) })
    this.#halt = new Promise((resolve) => {
      this.#halted = resolve
    })
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
    // Queued deliveries are dropped, not taken: #run gives them back.
    void this.#queue.return()
    this.#halted()
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedEvent<T>> {
    return {
      next: () => this.#queue.next(),
      return: () => {
        this.stop()
        return Promise.resolve({ done: true, value: undefined })
      },
    }
  }

  async #run(started: () => void, failed: (error: unknown) => void): Promise<void> {
    try {
      await this.#retrying(() => this.#source.start())
      if (this.#stop.signal.aborted) throw canceled(EVENTS_ERROR_ID, 'the consumer stopped before it started')
      started()
      this.#running = true
      this.#refill()
      await this.#halt
      if (this.#failure !== undefined) throw this.#failure
    } catch (error) {
      const failure = MicroError.from(error, EVENTS_ERROR_ID)
      failed(failure)
      this.#queue.fail(failure)
      this.#stop.abort()
    } finally {
      this.#running = false
      clearTimeout(this.#timer)
      // Sources end their pulls promptly on abort; what still arrives is given back by #accept.
      await Promise.all(this.#pulls)
      for (const held of this.#held) {
        if (held.taken || held.settled) continue
        held.settled = true
        this.#giveBack(held.delivery)
      }
      this.#held.clear()
      await Promise.all(this.#settling)
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
        await this.#sleep(backoff)
        backoff = Math.min(backoff * 2, MAX_BACKOFF)
      }
    }
  }

  /** Wait `ms`, or less when the consumer stops. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#stop.signal
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  /** Start a pull if there is room for one (called whenever room may have appeared). */
  #refill(): void {
    if (!this.#running || this.#pulls.size >= this.#source.overlap) return
    let room = this.#room()
    if (room <= 0 && this.#pulls.size === 0) room = this.#expire()
    if (room <= 0 || (this.#pulls.size > 0 && room < this.#batch)) return
    if (this.#resumeAt !== 0) {
      const wait = this.#resumeAt - Date.now()
      if (wait > 0) {
        this.#wakeIn(wait)
        return
      }
      this.#resumeAt = 0
    }
    this.#pull(room)
  }

  #room(): number {
    return this.#plan.maxInFlight - this.#held.size - this.#requested - this.#settling.size
  }

  /**
   * Stop counting taken events past their ackWait (they belong to whoever the engine gave
   * them to next), and wake up when the next one expires if that is what room waits for.
   */
  #expire(): number {
    const now = Date.now()
    let next = Number.POSITIVE_INFINITY
    for (const held of this.#held) {
      if (!held.taken) continue
      if (held.expires <= now) this.#held.delete(held)
      else if (held.expires < next) next = held.expires
    }
    const room = this.#room()
    if (room <= 0 && next !== Number.POSITIVE_INFINITY) this.#wakeIn(next - now)
    return room
  }

  #wakeIn(ms: number): void {
    const at = Date.now() + ms
    if (this.#timer !== undefined && this.#timerAt <= at) return
    clearTimeout(this.#timer)
    this.#timerAt = at
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#refill()
    }, ms)
  }

  #pull(max: number): void {
    const pull: Pull = { remaining: max }
    this.#requested += max
    const accept = (delivery: Delivery): void => {
      if (pull.remaining > 0) {
        pull.remaining--
        this.#requested--
      }
      this.#accept(delivery)
    }
    let pulling: Promise<void>
    try {
      pulling = this.#source.pull(max, this.#stop.signal, accept)
    } catch (error) {
      pulling = Promise.reject(error)
    }
    const done: Promise<void> = pulling.then(
      () => this.#pullEnded(pull, done, undefined),
      (error: unknown) => this.#pullEnded(pull, done, error ?? new Error('the pull failed')),
    )
    this.#pulls.add(done)
  }

  #pullEnded(pull: Pull, done: Promise<void>, error: unknown): void {
    this.#pulls.delete(done)
    this.#requested -= pull.remaining
    pull.remaining = 0
    if (error !== undefined && !this.#stop.signal.aborted) {
      if (isFatal(error)) {
        this.#fail(error)
        return
      }
      const now = Date.now()
      // Overlapping pulls fail together when the connection goes: count that once.
      if (this.#resumeAt <= now) {
        this.#warn('consuming failed; retrying', error)
        this.#resumeAt = now + this.#backoff
        this.#backoff = Math.min(this.#backoff * 2, MAX_BACKOFF)
      }
    }
    this.#refill()
  }

  #fail(error: unknown): void {
    if (this.#failure !== undefined) return
    this.#failure = error
    this.#stop.abort()
    this.#halted()
  }

  #accept(delivery: Delivery): void {
    if (this.#stop.signal.aborted) {
      this.#giveBack(delivery)
      return
    }
    this.#backoff = MIN_BACKOFF
    const plan = this.#plan
    if (delivery.attempt > plan.maxAttempts) {
      const reason = `not acknowledged within ${plan.ackWait} ms on delivery ${plan.maxAttempts} of ${plan.maxAttempts}`
      this.#deadLetter(delivery, reason, false)
      return
    }
    const payload = decodeValueWith(delivery.event, plan.codec)
    if (payload instanceof DecodeFailure) {
      this.#deadLetter(delivery, payload.message, true)
      return
    }
    const held = new Held<T>(delivery, Date.now() + plan.ackWait)
    held.event = this.#received(held, payload as T)
    this.#held.add(held)
    this.#queue.push(held)
  }

  #deadLetter(delivery: Delivery, reason: string, undecodable: boolean): void {
    const settling: Promise<void> = delivery.deadLetter(reason, undecodable).then(
      () => this.#settled(settling),
      (error) => {
        // Still pending in the group: it comes back after ackWait and is dead-lettered then.
        this.#warn('dead-lettering an event failed', error, { event: delivery.event.id })
        this.#settled(settling)
      },
    )
    this.#settling.add(settling)
  }

  #settled(settling: Promise<void>): void {
    this.#settling.delete(settling)
    this.#refill()
  }

  #giveBack(delivery: Delivery): void {
    delivery.release().catch((error) => this.#warn('giving an event back failed', error))
  }

  #received(held: Held<T>, payload: T): ReceivedEvent<T> {
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

  #take(held: Held<T>): ReceivedEvent<T> {
    held.taken = true
    if (this.#plan.ack === 'auto') {
      const acking = this.#settle(held, 'ack')
      if (acking !== SETTLED) acking.catch((error) => this.#warn('acknowledging an event failed', error))
    }
    return held.event as ReceivedEvent<T>
  }

  #settle(held: Held<T>, how: 'ack' | 'nack', reason?: string): Promise<void> {
    if (held.settled) return SETTLED
    held.settled = true
    if (this.#held.delete(held)) this.#refill()
    const { delivery } = held
    const { maxAttempts } = this.#plan
    let settling: Promise<void>
    try {
      if (how === 'ack') settling = delivery.ack()
      else if (delivery.attempt < maxAttempts) settling = delivery.nack()
      else {
        const why = `nacked on delivery ${delivery.attempt} of ${maxAttempts}${reason ? `: ${reason}` : ''}`
        settling = delivery.deadLetter(why)
      }
    } catch (error) {
      return Promise.reject(MicroError.from(error, EVENTS_ERROR_ID))
    }
    if (settling === SETTLED) return settling
    return settling.catch((error) => {
      throw MicroError.from(error, EVENTS_ERROR_ID)
    })
  }

  #warn(message: string, error: unknown, fields: Record<string, unknown> = {}): void {
    const { namespace, topic, group } = this.#plan
    this.#logger.warn(`events: ${message}`, { namespace, topic, group, ...fields, error })
  }
}
