import type { Headers } from '../transport/frame.js'
import { BatchParts, encodeBatch } from './batch.js'

/** Sends one batch to its destination; resolves once the destination has it (engine's sense). */
export type BatchSender<D> = (destination: D, batch: Buffer, count: number) => Promise<void> | void

export interface CoalescerOptions<D> {
  send: BatchSender<D>
  /** A batch this large (header JSON + bodies) is sent at once. Default 64 KiB. */
  maxBytes?: number
  /** A batch with this many messages is sent at once. Default 1024. */
  maxMessages?: number
}

/** The messages for one destination gathered in this turn, and the promise they share. */
class Pending<D> {
  readonly parts = new BatchParts()
  readonly sent: Promise<void>
  resolve: () => void = () => {}
  reject: (error: unknown) => void = () => {}

  constructor(readonly destination: D) {
    this.sent = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
  }
}

/**
 * Gathers the messages published in one run of the event loop (until the microtask queue
 * is empty) per destination, and sends each destination's as one batch (batch.ts): one
 * transport call or one NATS message instead of one per message. Every message of a batch
 * gets the same promise, settled when the batch was sent, so the publish path allocates
 * nothing per message for it. Order is kept per destination.
 */
export class Coalescer<D> {
  readonly #send: BatchSender<D>
  readonly #maxBytes: number
  readonly #maxMessages: number
  readonly #pending = new Map<string, Pending<D>>()
  #scheduled = false
  readonly #flush = () => {
    this.#scheduled = false
    const batches = [...this.#pending.values()]
    this.#pending.clear()
    for (const batch of batches) this.#dispatch(batch)
  }

  constructor(options: CoalescerOptions<D>) {
    this.#send = options.send
    this.#maxBytes = options.maxBytes ?? 64 * 1024
    this.#maxMessages = options.maxMessages ?? 1024
  }

  /**
   * Queue one message for `destination`, known by `key`. Resolves (or rejects) with the batch
   * it joins.
   */
  add(key: string, destination: D, headers: Headers, body: Uint8Array): Promise<void> {
    let batch = this.#pending.get(key)
    if (batch === undefined) {
      batch = new Pending(destination)
      this.#pending.set(key, batch)
      if (!this.#scheduled) {
        this.#scheduled = true
        queueMicrotask(this.#flush)
      }
    }
    const parts = batch.parts
    parts.add(headers, body)
    const sent = batch.sent
    if (parts.count >= this.#maxMessages || parts.bytes >= this.#maxBytes) {
      this.#pending.delete(key)
      this.#dispatch(batch)
    }
    return sent
  }

  #dispatch(batch: Pending<D>): void {
    let sending: Promise<void> | void
    try {
      sending = this.#send(batch.destination, encodeBatch(batch.parts), batch.parts.count)
    } catch (error) {
      batch.reject(error)
      return
    }
    if (sending === undefined) batch.resolve()
    else sending.then(batch.resolve, batch.reject)
  }
}
