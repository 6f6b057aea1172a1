type Waiter<V> = {
  resolve: (result: IteratorResult<V>) => void
  reject: (error: unknown) => void
}

/**
 * The queue between a consumer's deliveries and its iterator: items wait in order until
 * the iterator asks, and `take` turns each into what the iterator returns at the moment
 * it is handed out (the consumer marks it taken and, in auto mode, acks it there).
 */
export class HandOff<H, V> {
  #buffer: H[] = []
  #head = 0
  #waiter: Waiter<V> | undefined
  #done = false
  #error: unknown
  readonly #take: (item: H) => V

  constructor(take: (item: H) => V) {
    this.#take = take
  }

  /** Queue an item, or hand it at once to an iterator waiting for one. Ignored once ended. */
  push(item: H): void {
    if (this.#done) return
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter.resolve({ value: this.#take(item), done: false })
      return
    }
    this.#buffer.push(item)
  }

  next(): Promise<IteratorResult<V>> {
    if (this.#head < this.#buffer.length) {
      const item = this.#buffer[this.#head] as H
      this.#buffer[this.#head++] = undefined as H
      if (this.#head === this.#buffer.length) {
        this.#buffer.length = 0
        this.#head = 0
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
        // A queue that never empties must not keep growing at the front.
        this.#buffer.splice(0, this.#head)
        this.#head = 0
      }
      return Promise.resolve({ value: this.#take(item), done: false })
    }
    if (this.#done) {
      if (this.#error === undefined) return Promise.resolve({ value: undefined, done: true })
      const error = this.#error
      this.#error = undefined
      return Promise.reject(error)
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  /** Stop now: queued items are dropped (their owner gives them back); the iteration ends. */
  end(): void {
    this.#done = true
    this.#buffer = []
    this.#head = 0
    this.#settleWaiter()
  }

  /** End with an error, thrown to the iterator after the queued items. */
  fail(error: unknown): void {
    if (this.#done) return
    this.#done = true
    this.#error = error
    this.#settleWaiter()
  }

  #settleWaiter(): void {
    const waiter = this.#waiter
    if (!waiter) return
    this.#waiter = undefined
    if (this.#error === undefined) {
      waiter.resolve({ value: undefined, done: true })
      return
    }
    const error = this.#error
    this.#error = undefined
    waiter.reject(error)
  }
}
