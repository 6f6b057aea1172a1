import { lmdbDirectory } from '../engines/lmdb.js'
import { LazyValue } from '../util/lazy-value.js'
import { STORE_ENGINES } from './engine-names.js'
import type { QueryOptions, ScopeOptions, Store, StoreRecord, StoreValue, WriteOptions } from './store.js'

/**
 * The store `MICRO_STORE` / `MICRO_STORE_ADDRESS` name, as `storeFromEnv` makes it, but
 * with its engine's module imported on the first call: what a service carries, so one
 * that never uses its store loads none. An unknown engine is refused now; an engine's own
 * complaints (a bad address) come with the first call.
 */
export function lazyStoreFromEnv(env: NodeJS.ProcessEnv = process.env): LazyStore {
  const engine = STORE_ENGINES.fromEnv(env, 'MICRO_STORE')
  const address = env.MICRO_STORE_ADDRESS?.trim() || undefined
  return new LazyStore(
    engine,
    async () => (await import('./from-env.js')).createStore(engine, address),
    engine === 'file' ? lmdbDirectory(address, 'store') : undefined,
  )
}

/** A {@link Store} whose implementation is loaded on the first call (see {@link lazyStoreFromEnv}). */
export class LazyStore implements Store {
  readonly name: string
  /** The file store's directory, known before it is loaded (its config stamps live there). */
  readonly directory: string | undefined
  readonly #store: LazyValue<Store>

  constructor(name: string, load: () => Promise<Store>, directory?: string) {
    this.name = name
    this.directory = directory
    this.#store = new LazyValue(load)
  }

  read<T = unknown>(key: string, options?: ScopeOptions): Promise<StoreRecord<T>>
  read<T = unknown>(query: QueryOptions): Promise<StoreRecord<T>[]>
  read<T>(
    keyOrQuery: string | QueryOptions,
    options?: ScopeOptions,
  ): Promise<StoreRecord<T> | StoreRecord<T>[]> {
    const read = (store: Store): Promise<StoreRecord<T> | StoreRecord<T>[]> =>
      typeof keyOrQuery === 'string' ? store.read<T>(keyOrQuery, options) : store.read<T>(keyOrQuery)
    const store = this.#store.now
    return store ? read(store) : this.#store.get().then(read)
  }

  write(key: string, value: StoreValue, options?: WriteOptions): Promise<void> {
    const store = this.#store.now
    return store
      ? store.write(key, value, options)
      : this.#store.get().then((s) => s.write(key, value, options))
  }

  delete(key: string, options?: ScopeOptions): Promise<void> {
    const store = this.#store.now
    return store ? store.delete(key, options) : this.#store.get().then((s) => s.delete(key, options))
  }

  async list(query?: QueryOptions): Promise<string[]> {
    return (this.#store.now ?? (await this.#store.get())).list(query)
  }

  async databases(options?: { namespace?: string }): Promise<string[]> {
    return (this.#store.now ?? (await this.#store.get())).databases(options)
  }

  async tables(options?: { namespace?: string; database?: string }): Promise<string[]> {
    return (this.#store.now ?? (await this.#store.get())).tables(options)
  }

  close(): Promise<void> {
    return this.#store.close()
  }
}
