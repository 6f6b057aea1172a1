/** Facades built on {@link LazyValue} answer this with their implementation once loaded (for test helpers). */
export const LOADED: unique symbol = Symbol.for('micro.lazy.loaded')

/**
 * An implementation made on first use by an async loader (a dynamic `import()` of its
 * module), for the building blocks a service carries but may never use: their modules and
 * the engines behind them cost start-up time and memory only once something calls them.
 * Calls made while it loads wait for the one load; a load that fails is tried again by
 * the next call (its error reaches the call that caused it).
 */
export class LazyValue<T extends { close(): Promise<void> }> {
  readonly #load: () => Promise<T>
  #value: T | undefined
  #loading: Promise<T> | undefined
  #closed = false

  constructor(load: () => Promise<T>) {
    this.#load = load
  }

  /** The implementation if it is loaded, else undefined. */
  get now(): T | undefined {
    return this.#value
  }

  /** The implementation, loaded on the first call; after `close`, loaded closed. */
  get(): Promise<T> {
    if (this.#value !== undefined) return Promise.resolve(this.#value)
    this.#loading ??= this.#load().then(
      async (value) => {
        // Closed before it was loaded: close it, so calls fail as the engine's own do.
        if (this.#closed) await value.close()
        this.#value = value
        return value
      },
      (error: unknown) => {
        this.#loading = undefined
        throw error
      },
    )
    return this.#loading
  }

  /** Close what was loaded, or is loading; when nothing was, load nothing now. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#value !== undefined) return this.#value.close()
    await this.#loading?.catch(() => undefined)
  }
}
