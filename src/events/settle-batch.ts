/**
 * Settlements (acks, nacks) made during one turn of the event loop, sent together when
 * the turn ends: one socket write (NATS) or one command (Redis) for a batch instead of one
 * per event. A consumer that acks each event as it takes it from a buffered batch settles
 * the whole batch in one turn, so this is where most of the per-event cost of acking goes.
 * The delay is one turn, far below any ackWait.
 */
export class SettleBatch<T> {
  #items: T[] = []
  #scheduled = false
  readonly #send: (items: T[]) => Promise<unknown> | undefined
  readonly #failed: (error: unknown, items: T[]) => void

  /**
   * `send` gets the queued items in order (it may return a promise of the engine's reply);
   * `failed` hears of a send that failed, with the items that were in it.
   */
  constructor(
    send: (items: T[]) => Promise<unknown> | undefined,
    failed: (error: unknown, items: T[]) => void,
  ) {
    this.#send = send
    this.#failed = failed
  }

  /** How many items wait for the end of the turn. */
  get size(): number {
    return this.#items.length
  }

  add(item: T): void {
    this.#items.push(item)
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#flushScheduled)
  }

  /** Send what is queued now (before closing a connection); resolves with the engine's reply. */
  flush(): Promise<void> {
    const items = this.#items
    if (items.length === 0) return Promise.resolve()
    this.#items = []
    let sent: Promise<unknown> | undefined
    try {
      sent = this.#send(items)
    } catch (error) {
      this.#failed(error, items)
      return Promise.resolve()
    }
    if (!sent) return Promise.resolve()
    return sent.then(
      () => undefined,
      (error: unknown) => this.#failed(error, items),
    )
  }

  readonly #flushScheduled = (): void => {
    this.#scheduled = false
    void this.flush()
  }
}
