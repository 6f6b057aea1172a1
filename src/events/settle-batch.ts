/**
 * Settlements (acks, nacks) made during one turn of the event loop, sent together when
 * the turn ends: one socket write (NATS) or one command (Redis) for a batch instead of one
 * per event. A consumer that acks each event as it takes it from a buffered batch settles
 * the whole batch in one turn, so this is where most of the per-event cost of acking goes.
 * The delay is one turn, far below any ackWait. Every item added in a turn gets the same
 * promise: the engine's reply to the batch, so an ack resolves only once it is confirmed.
 */
export class SettleBatch<T, R = void> {
  #items: T[] = []
  #batch: Batch<R> | undefined
  readonly #send: (items: T[]) => Promise<R> | R

  /** `send` gets the queued items in order and returns (a promise of) the engine's reply. */
  constructor(send: (items: T[]) => Promise<R> | R) {
    this.#send = send
  }

  /** How many items wait for the end of the turn. */
  get size(): number {
    return this.#items.length
  }

  /** Queue an item; resolves with the reply to the batch it goes out in, rejects when that fails. */
  add(item: T): Promise<R> {
    this.#items.push(item)
    if (this.#batch) return this.#batch.promise
    const batch = new Batch<R>()
    this.#batch = batch
    setImmediate(() => {
      if (this.#batch === batch) void this.flush()
    })
    return batch.promise
  }

  /** Send what is queued now (before closing a connection); resolves once the engine replied. */
  flush(): Promise<void> {
    const items = this.#items
    const batch = this.#batch
    this.#items = []
    this.#batch = undefined
    if (!batch) return Promise.resolve()
    try {
      batch.settle(this.#send(items))
    } catch (error) {
      batch.settle(Promise.reject(error))
    }
    return batch.promise.then(
      () => undefined,
      () => undefined,
    )
  }
}

/** The promise every item of one batch shares. */
class Batch<R> {
  readonly promise: Promise<R>
  #resolve!: (reply: Promise<R> | R) => void

  constructor() {
    this.promise = new Promise<R>((resolve) => {
      this.#resolve = resolve
    })
    // Whoever added an item hears of a failure on their own chain; the batch itself must not
    // count as an unhandled rejection when nobody looked.
    this.promise.catch(() => {})
  }

  settle(reply: Promise<R> | R): void {
    this.#resolve(reply)
  }
}
