import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { Source, Unwatch } from './source.js'
import { type ConfigObject, clone, isPlainObject } from './tree.js'

/**
 * One source inside a loaded config: its last good values, and the re-reads its watch
 * asks for. Reads of one source never overlap (changes during a read queue one more
 * read), so an older read can never overwrite a newer one. A failed read keeps the last
 * good values and is logged once per distinct error.
 */
export class SourceLayer {
  readonly source: Source
  /** The source's last successfully read values. */
  data: ConfigObject = {}
  readonly #applied: () => void
  readonly #logger: Logger
  #reading: Promise<void> | undefined
  #queued: Promise<void> | undefined
  #lastError: string | undefined
  #unwatch: Unwatch | undefined
  #closed = false

  constructor(source: Source, applied: () => void, logger: Logger) {
    this.source = source
    this.#applied = applied
    this.#logger = logger
  }

  /** Read the source now; rejects with the source's error (the previous values stay). */
  read(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#reading) {
      // One more read after the current one serves every change that arrives meanwhile.
      this.#queued ??= this.#reading
        .catch(() => undefined)
        .then(() => {
          this.#queued = undefined
          return this.read()
        })
      return this.#queued
    }
    let result: ConfigObject | Promise<ConfigObject>
    try {
      result = this.source.read()
      // A synchronous source (memory) applies at once, so `set` is visible to the next `get`.
      if (!(result instanceof Promise)) {
        this.#apply(result)
        return Promise.resolve()
      }
    } catch (error) {
      return Promise.reject(error)
    }
    const reading = result
      .then((data) => this.#apply(data))
      .finally(() => {
        this.#reading = undefined
      })
    this.#reading = reading
    return reading
  }

  /** Start the source's watch, if it has one. */
  watch(): void {
    if (this.#closed || this.#unwatch || !this.source.watch) return
    this.#unwatch = this.source.watch(
      () => this.#changed(),
      (error) => this.#report(error, 'config source cannot be watched'),
    )
  }

  /** Stop watching; reads in flight are ignored when they finish. */
  close(): void {
    this.#closed = true
    this.#unwatch?.()
    this.#unwatch = undefined
  }

  /** Log a read failure (once per distinct message) and keep the previous values. */
  failed(error: unknown): void {
    this.#report(error, 'config source failed to load; keeping its previous values')
  }

  #changed(): void {
    this.read().catch((error) => this.failed(error))
  }

  #apply(data: ConfigObject): void {
    if (this.#closed) return
    if (!isPlainObject(data))
      throw new TypeError(`config source ${this.source.name} read something other than an object`)
    this.data = clone(data) as ConfigObject
    if (this.#lastError !== undefined) {
      this.#logger.info('config source recovered', { source: this.source.name })
      this.#lastError = undefined
    }
    this.#applied()
  }

  #report(error: unknown, message: string): void {
    if (this.#closed) return
    const detail = MicroError.from(error, 'micro.config').detail
    if (detail === this.#lastError) return
    this.#lastError = detail
    this.#logger.error(message, { source: this.source.name, error: detail })
  }
}
