export interface AsyncQueueOptions<T = unknown, V = T> {
  /**
   * Turns a pushed item into what the consumer gets, at the moment it is handed out (not
   * when pushed): an item still buffered when the queue is returned is never taken.
   */
  take?: (item: T) => V
  /** Called with `true` when the buffered count reaches highWaterMark, `false` once it is drained. */
  onPressure?: (full: boolean) => void
  highWaterMark?: number
  /** Called once when the consumer stops early (break / return()). */
  onReturn?: () => void
}

/**
 * A push-fed async iterator: producers `push`, `end` or `fail`; one consumer iterates.
 * Values pushed before the consumer asks are buffered; `onPressure` lets the producer
 * pause its source while the buffer is full.
 */
export class AsyncQueue<T, V = T> implements AsyncIterableIterator<V> {
  readonly #buffer: T[] = []
  #head = 0
  #waiter: { resolve: (r: IteratorResult<V>) => void; reject: (e: unknown) => void } | undefined
  #done = false
  #error: unknown
  #full = false
  readonly #options: AsyncQueueOptions<T, V>
  readonly #take: (item: T) => V

  constructor(options: AsyncQueueOptions<T, V> = {}) {
    this.#options = options
    this.#take = options.take ?? ((item: T) => item as unknown as V)
  }

  /** Whether end, fail or return has happened. */
  get closed(): boolean {
    return this.#done
  }

  get size(): number {
    return this.#buffer.length - this.#head
  }

  /** Whether the consumer is waiting: the next push is handed out at once, not buffered. */
  get waiting(): boolean {
    return this.#waiter !== undefined
  }

  push(value: T): void {
    if (this.#done) return
    const waiter = this.#waiter
    if (waiter) {
      this.#waiter = undefined
      waiter.resolve({ value: this.#take(value), done: false })
      return
    }
    this.#buffer.push(value)
    const hwm = this.#options.highWaterMark
    if (hwm !== undefined && !this.#full && this.size >= hwm) {
      this.#full = true
      this.#options.onPressure?.(true)
    }
  }

  /** No more values; the consumer finishes after the buffered ones. */
  end(): void {
    if (this.#done) return
    this.#done = true
    this.#settleWaiter()
  }

  /** Stop with an error, thrown to the consumer after the buffered values. */
  fail(error: unknown): void {
    if (this.#done) return
    this.#done = true
    this.#error = error ?? new Error('queue failed')
    this.#settleWaiter()
  }

  next(): Promise<IteratorResult<V>> {
    if (this.#head < this.#buffer.length) {
      const value = this.#buffer[this.#head] as T
      this.#buffer[this.#head++] = undefined as T
      if (this.#head === this.#buffer.length) {
        this.#buffer.length = 0
        this.#head = 0
      } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
        this.#buffer.splice(0, this.#head)
        this.#head = 0
      }
      if (this.#full && this.size === 0) {
        this.#full = false
        this.#options.onPressure?.(false)
      }
      return Promise.resolve({ value: this.#take(value), done: false })
    }
    if (this.#done) {
      if (this.#error !== undefined) {
        const error = this.#error
        this.#error = undefined
        return Promise.reject(error)
      }
      return Promise.resolve({ value: undefined, done: true })
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  return(): Promise<IteratorResult<V>> {
    const wasDone = this.#done
    this.#done = true
    this.#error = undefined
    this.#buffer.length = 0
    this.#head = 0
    this.#settleWaiter()
    if (!wasDone) this.#options.onReturn?.()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<V> {
    return this
  }

  #settleWaiter(): void {
    const waiter = this.#waiter
    if (!waiter) return
    this.#waiter = undefined
    if (this.#error !== undefined) {
      const error = this.#error
      this.#error = undefined
      waiter.reject(error)
    } else {
      waiter.resolve({ value: undefined, done: true })
    }
  }
}
