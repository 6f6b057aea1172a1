import type { Logger } from '../logger/logger.js'
import type { DeliveryHandler } from './broker.js'
import type { BrokerDelivery } from './delivery.js'
import { Retry, type RetryOptions } from './retry.js'

export interface InboxOptions {
  broker: string
  topic: string
  queue: string | undefined
  handler: DeliveryHandler
  autoAck: boolean
  concurrency: number
  logger: Logger
  /** Deliveries held here (running or waiting) before `whenRoom` makes the engine wait. Default 1024. */
  limit?: number
  /** What a nack does (retry limit, dead-letter topic). */
  retry: Omit<RetryOptions, 'broker' | 'topic' | 'logger'>
}

/** Consumed slots at the head of the queue after which it is compacted. */
const COMPACT_AT = 1024

/**
 * The in-process side of one subscription: deliveries wait here and are handed to the
 * handler `concurrency` at a time, in arrival order. A throwing handler is logged and the
 * next message follows; with auto-ack the message is acked when the handler settles. Engines
 * that can hold messages back (the default broker, Redis lists) wait on `whenRoom()`.
 *
 * Handlers run from a microtask, never inside the engine's (or a publisher's) call stack.
 * A handler that returns no promise costs no promise: the deliveries that arrived together
 * are handled in one loop, which is most of what a subscriber spends per message.
 */
export class Inbox {
  readonly #options: InboxOptions
  readonly #limit: number
  readonly #retry: Retry
  #queue: (BrokerDelivery | undefined)[] = []
  #head = 0
  #running = 0
  #stopped = false
  #scheduled = false
  #roomWaiters: Array<() => void> = []
  readonly #drain = () => {
    this.#scheduled = false
    this.#pump()
  }

  constructor(options: InboxOptions) {
    this.#options = options
    this.#limit = options.limit ?? 1024
    const { broker, topic, logger } = options
    this.#retry = new Retry({ ...options.retry, broker, topic, logger }, this)
  }

  /** Handlers that may run at once. */
  get concurrency(): number {
    return this.#options.concurrency
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Messages waiting or being handled. */
  get size(): number {
    return this.#queue.length - this.#head + this.#running
  }

  /** Queue a delivery; after `stop()` it is given back (where the engine can take it) at once. */
  push(delivery: BrokerDelivery): void {
    if (this.#stopped) {
      this.#release(delivery)
      return
    }
    delivery.nacker = this.#retry
    this.#queue.push(delivery)
    if (!this.#scheduled && this.#running < this.#options.concurrency) {
      this.#scheduled = true
      queueMicrotask(this.#drain)
    }
  }

  /** Resolves once fewer than `limit` messages are held (or the inbox is stopped). */
  whenRoom(): Promise<void> {
    if (this.#stopped || this.size < this.#limit) return Promise.resolve()
    return new Promise((resolve) => this.#roomWaiters.push(resolve))
  }

  /** Take nothing more; messages not yet handed to the handler are given back. */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    const waiting = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    for (const delivery of waiting) if (delivery) this.#release(delivery)
    this.#wake()
  }

  #pump(): void {
    const concurrency = this.#options.concurrency
    while (!this.#stopped && this.#running < concurrency && this.#head < this.#queue.length) {
      const delivery = this.#queue[this.#head] as BrokerDelivery
      this.#queue[this.#head++] = undefined
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0
        this.#head = 0
      } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head)
        this.#head = 0
      }
      this.#running++
      this.#run(delivery)
    }
  }

  #run(delivery: BrokerDelivery): void {
    let result: unknown
    try {
      result = this.#options.handler(delivery)
    } catch (error) {
      this.#failed(delivery, error)
      this.#done(delivery)
      return
    }
    if (isThenable(result)) {
      result.then(
        () => this.#finish(delivery),
        (error: unknown) => {
          this.#failed(delivery, error)
          this.#finish(delivery)
        },
      )
      return
    }
    this.#done(delivery)
  }

  /** An async handler settled: account for it and go on with the next. */
  #finish(delivery: BrokerDelivery): void {
    this.#done(delivery)
    this.#pump()
  }

  #done(delivery: BrokerDelivery): void {
    if (this.#options.autoAck) this.#settle(delivery, true)
    this.#running--
    this.#wake()
  }

  #failed(delivery: BrokerDelivery, error: unknown): void {
    const { logger, topic, queue, broker } = this.#options
    logger.error('subscriber failed; the subscription goes on', {
      broker,
      topic,
      queue,
      id: delivery.id,
      error,
    })
  }

  /** Ack; a failure is logged. */
  #settle(delivery: BrokerDelivery, ack: boolean): void {
    try {
      const pending = delivery.settle(ack)
      if (pending !== undefined)
        pending.then(undefined, (error: unknown) => this.#settleFailed(delivery, ack, error))
    } catch (error) {
      this.#settleFailed(delivery, ack, error)
    }
  }

  /** Give back a delivery the handler never had; a failure is logged. */
  #release(delivery: BrokerDelivery): void {
    try {
      const pending = delivery.release()
      if (pending !== undefined)
        pending.then(undefined, (error: unknown) => this.#settleFailed(delivery, false, error))
    } catch (error) {
      this.#settleFailed(delivery, false, error)
    }
  }

  #settleFailed(delivery: BrokerDelivery, ack: boolean, error: unknown): void {
    this.#options.logger.warn(`could not ${ack ? 'ack' : 'nack'} a message`, {
      broker: this.#options.broker,
      topic: this.#options.topic,
      id: delivery.id,
      error,
    })
  }

  #wake(): void {
    if (this.#roomWaiters.length === 0 || (!this.#stopped && this.size >= this.#limit)) return
    const waiters = this.#roomWaiters
    this.#roomWaiters = []
    for (const resolve of waiters) resolve()
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
}
