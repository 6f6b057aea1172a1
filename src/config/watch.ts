import { deepEqual, getAt } from './tree.js'
import { Value } from './value.js'

/**
 * One `config.watch(path)` iteration. It keeps only the newest unread value: a consumer
 * that falls behind gets the latest config, not every intermediate one.
 */
export class ConfigWatcher implements AsyncIterableIterator<Value> {
  readonly path: string
  readonly #parts: readonly string[]
  readonly #onEnd: (watcher: ConfigWatcher) => void
  #last: unknown
  #pending: Value | undefined
  #waiters: Array<(result: IteratorResult<Value>) => void> = []
  #done = false

  constructor(path: string, parts: readonly string[], tree: unknown, onEnd: (w: ConfigWatcher) => void) {
    this.path = path
    this.#parts = parts
    this.#onEnd = onEnd
    this.#last = getAt(tree, parts)
  }

  /** Queue the current value, for `watch(path, { initial: true })`. */
  primeInitial(): void {
    this.#push(new Value(this.path, this.#last))
  }

  /** A new config tree: yields the value at the path if it differs from the last one seen. */
  update(tree: unknown): void {
    const value = getAt(tree, this.#parts)
    if (this.#done || deepEqual(value, this.#last)) return
    this.#last = value
    this.#push(new Value(this.path, value))
  }

  /** Finish the iteration after any pending value. */
  end(): void {
    if (this.#done) return
    this.#done = true
    this.#onEnd(this)
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true })
  }

  next(): Promise<IteratorResult<Value>> {
    const pending = this.#pending
    if (pending) {
      this.#pending = undefined
      return Promise.resolve({ value: pending, done: false })
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve) => {
      this.#waiters.push(resolve)
    })
  }

  return(): Promise<IteratorResult<Value>> {
    this.#pending = undefined
    this.end()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Value> {
    return this
  }

  #push(value: Value): void {
    const waiter = this.#waiters.shift()
    if (waiter) {
      waiter({ value, done: false })
    } else {
      this.#pending = value
    }
  }
}
