import type { Headers } from '../transport/frame.js'
import { ATTEMPT_HEADER, type Delivery, ID_HEADER, type NackOptions } from './broker.js'

/** How an engine settles one message; omitted where the engine has no acks. */
export interface Settler {
  ack(): Promise<void> | void
  /** Give it back as it is (a subscription that stops), or drop it (`requeue` false). */
  nack(requeue: boolean): Promise<void> | void
  /**
   * Have the engine deliver it again (to this or another member) with these headers, which
   * count the attempt, and settle this delivery. Absent: it is delivered again in this process.
   */
  requeue?(headers: Headers): Promise<void> | void
}

/** What a nack goes through: the subscription's retry limit and dead-letter topic (retry.ts). */
export interface Nacker {
  nack(delivery: BrokerDelivery, requeue: boolean): Promise<void>
}

export interface DeliveryInit {
  topic: string
  queue: string | undefined
  headers: Headers
  body: Uint8Array
  redelivered?: boolean
  settler?: Settler
}

/** A delivered message that can be settled once; later ack/nack calls do nothing. */
export class BrokerDelivery implements Delivery {
  readonly topic: string
  readonly id: string
  readonly queue: string | undefined
  readonly redelivered: boolean
  readonly headers: Headers
  readonly body: Uint8Array
  /** The engine's side, if it has acks. */
  readonly settler: Settler | undefined
  /** Set by the inbox that takes it: where a nack goes. */
  nacker: Nacker | undefined
  #settled = false

  constructor(init: DeliveryInit) {
    this.topic = init.topic
    this.queue = init.queue
    this.headers = init.headers
    this.body = init.body
    this.id = init.headers[ID_HEADER] ?? ''
    // A message nacked and sent again carries its attempt count, on every engine.
    this.redelivered = init.redelivered === true || init.headers[ATTEMPT_HEADER] !== undefined
    this.settler = init.settler
  }

  get attempt(): number {
    const value = this.headers[ATTEMPT_HEADER]
    if (value === undefined) return 1
    const attempt = Number(value)
    return Number.isSafeInteger(attempt) && attempt > 0 ? attempt : 1
  }

  /** Whether ack or nack has been called. */
  get settled(): boolean {
    return this.#settled
  }

  async ack(): Promise<void> {
    await this.settle(true)
  }

  async nack(options: NackOptions = {}): Promise<void> {
    await this.settle(false, options.requeue ?? true)
  }

  /**
   * Ack (or nack) once, as `ack()`/`nack()` do, returning a promise only when there is
   * something to wait for: what the inbox uses to auto-ack without a promise per message.
   * May throw.
   */
  settle(ack: boolean, requeue = true): Promise<void> | void {
    if (this.#settled) return
    this.#settled = true
    if (ack) return this.settler?.ack()
    if (this.nacker) return this.nacker.nack(this, requeue)
    return this.settler?.nack(requeue)
  }

  /** Give it back unsettled, counting no attempt, where the engine can take it; else it is dropped. */
  release(): Promise<void> | void {
    if (this.#settled) return
    this.#settled = true
    return this.settler?.nack(true)
  }
}
