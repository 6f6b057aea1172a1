import type { Logger } from '../logger/logger.js'
import type { DeliveryHandler } from './broker.js'
import type { BrokerDelivery } from './delivery.js'

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
}

/**
 * The in-process side of one subscription: deliveries wait here and are handed to the
 * handler `concurrency` at a time, in arrival order. A throwing handler is logged and the
 * next message follows; with auto-ack the message is acked when the handler settles. Engines
 * that can hold messages back (the default broker, Redis lists) wait on `whenRoom()`.
 */
export class Inbox {
  readonly #options: InboxOptions
  readonly #limit: number
  readonly #waiting: BrokerDelivery[] = []
  #running = 0
  #stopped = false
  #roomWaiters: Array<() => void> = []

  constructor(options: InboxOptions) {
    this.#options = options
    this.#limit = options.limit ?? 1024
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Messages waiting or being handled. */
  get size(): number {
    return this.#waiting.length + this.#running
  }

  /** Queue a delivery; after `stop()` it is given back (nack with requeue) at once. */
  push(delivery: BrokerDelivery): void {
    if (this.#stopped) {
      void this.#settle(delivery, 'nack')
      return
    }
    this.#waiting.push(delivery)
    this.#pump()
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
    const waiting = this.#waiting.splice(0)
    for (const delivery of waiting) void this.#settle(delivery, 'nack')
    this.#wake()
  }

  #pump(): void {
    while (!this.#stopped && this.#running < this.#options.concurrency && this.#waiting.length > 0) {
      const delivery = this.#waiting.shift() as BrokerDelivery
      this.#running++
      void this.#run(delivery)
    }
  }

  async #run(delivery: BrokerDelivery): Promise<void> {
    // Handlers never run inside the engine's (or the publisher's) call stack.
    await undefined
    const { handler, autoAck, logger, topic, queue, broker } = this.#options
    try {
      await handler(delivery)
    } catch (error) {
      logger.error('subscriber failed; the subscription goes on', {
        broker,
        topic,
        queue,
        id: delivery.id,
        error,
      })
    }
    if (autoAck) await this.#settle(delivery, 'ack')
    this.#running--
    this.#wake()
    this.#pump()
  }

  async #settle(delivery: BrokerDelivery, how: 'ack' | 'nack'): Promise<void> {
    try {
      if (how === 'ack') await delivery.ack()
      else await delivery.nack({ requeue: true })
    } catch (error) {
      this.#options.logger.warn(`could not ${how} a message`, {
        broker: this.#options.broker,
        topic: this.#options.topic,
        id: delivery.id,
        error,
      })
    }
  }

  #wake(): void {
    if (this.#roomWaiters.length === 0 || (!this.#stopped && this.size >= this.#limit)) return
    const waiters = this.#roomWaiters
    this.#roomWaiters = []
    for (const resolve of waiters) resolve()
  }
}
