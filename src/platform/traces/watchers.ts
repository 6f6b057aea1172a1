/**
 * Fan-out of values to any number of async-iterator consumers, each with a bounded queue:
 * a consumer that falls behind loses its oldest values, the producer never waits.
 */
export class Watchers<T> {
  readonly #consumers = new Set<Consumer<T>>()
  readonly #maxQueue: number

  constructor(maxQueue = 1000) {
    this.#maxQueue = maxQueue
  }

  get size(): number {
    return this.#consumers.size
  }

  publish(value: T): void {
    for (const consumer of this.#consumers) consumer.push(value)
  }

  /** A new consumer, ended by `signal` or by `return()` (a `for await` that breaks). */
  watch(signal?: AbortSignal): AsyncIterableIterator<T> {
    const onAbort = () => consumer.end()
    const consumer = new Consumer<T>(this.#maxQueue, () => {
      this.#consumers.delete(consumer)
      signal?.removeEventListener('abort', onAbort)
    })
    if (signal?.aborted) {
      consumer.end()
      return consumer
    }
    this.#consumers.add(consumer)
    signal?.addEventListener('abort', onAbort, { once: true })
    return consumer
  }

  /** End every consumer (the store closes). */
  endAll(): void {
    for (const consumer of [...this.#consumers]) consumer.end()
  }
}

class Consumer<T> implements AsyncIterableIterator<T> {
  readonly #queue: T[] = []
  readonly #max: number
  readonly #onEnd: () => void
  #waiting: ((result: IteratorResult<T>) => void) | undefined
  #ended = false

  constructor(max: number, onEnd: () => void) {
    this.#max = max
    this.#onEnd = onEnd
  }

  push(value: T): void {
    if (this.#ended) return
    if (this.#waiting) {
      const resolve = this.#waiting
      this.#waiting = undefined
      resolve({ value, done: false })
      return
    }
    if (this.#queue.length >= this.#max) this.#queue.shift()
    this.#queue.push(value)
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#queue.length = 0
    this.#onEnd()
    const resolve = this.#waiting
    this.#waiting = undefined
    resolve?.({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift() as T, done: false })
    if (this.#ended) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.#waiting = resolve
    })
  }

  return(): Promise<IteratorResult<T>> {
    this.end()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }
}
