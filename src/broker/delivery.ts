import type { Headers } from '../transport/frame.js'
import { type Delivery, ID_HEADER, type NackOptions } from './broker.js'

/** How an engine acknowledges one message; omitted where the engine has no acks. */
export interface Settler {
  ack(): Promise<void> | void
  nack(requeue: boolean): Promise<void> | void
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
  readonly #settler: Settler | undefined
  #settled = false

  constructor(init: DeliveryInit) {
    this.topic = init.topic
    this.queue = init.queue
    this.headers = init.headers
    this.body = init.body
    this.id = init.headers[ID_HEADER] ?? ''
    this.redelivered = init.redelivered ?? false
    this.#settler = init.settler
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
   * Ack (or nack) once, as `ack()`/`nack()` do, returning the engine's promise only when it
   * has one: what the inbox uses to auto-ack without a promise per message. May throw.
   */
  settle(ack: boolean, requeue = true): Promise<void> | void {
    if (this.#settled) return
    this.#settled = true
    const settler = this.#settler
    if (settler === undefined) return
    return ack ? settler.ack() : settler.nack(requeue)
  }
}
