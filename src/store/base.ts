import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import { engineError, StoreNotFoundError, unavailable } from './errors.js'
import {
  checkKey,
  checkName,
  describeScope,
  type Query,
  resolveExpiresAt,
  resolveQuery,
  resolveScope,
  type Scope,
} from './scope.js'
import type {
  QueryOptions,
  ScopeOptions,
  Store,
  StoreRecord,
  StoreValue,
  TableRef,
  WriteOptions,
} from './store.js'
import { DEFAULT_DATABASE } from './store.js'
import { encodeMetadata, encodeValue, type StoredValue } from './value.js'

const done = (): void => {}

/**
 * What every store shares: option defaults and checks, the read overloads, expiry
 * arithmetic, error normalisation (engine failures become 503s naming the store) and the
 * closed state. An implementation supplies the engine primitives below; they receive
 * checked input and may throw anything.
 */
export abstract class BaseStore implements Store {
  abstract readonly name: string
  #closed: Promise<void> | undefined

  /** The record, or undefined when missing or expired. */
  protected abstract getOne(scope: Scope, key: string): Promise<StoreRecord | undefined>
  /** Store a record; `value` is encoded (`encodeValue`), `metadata` JSON text ('' for none). */
  protected abstract putOne(
    scope: Scope,
    key: string,
    value: StoredValue,
    metadata: string,
    expiresAt: number,
  ): Promise<unknown>
  protected abstract deleteOne(scope: Scope, key: string): Promise<void>
  /** Live records matching the query, in order, offset and limit applied. */
  protected abstract scanRecords(scope: Scope, query: Query): Promise<StoreRecord[]>
  /** Live keys matching the query, in order, offset and limit applied. */
  protected abstract scanKeys(scope: Scope, query: Query): Promise<string[]>
  /** The namespace's tables holding at least one live record. */
  protected abstract listTables(namespace: string): Promise<TableRef[]>
  protected abstract closeEngine(): Promise<void>

  /** Turns an engine's error into a clearer one before it becomes a 503 (default: as is). */
  protected explain(error: unknown): unknown {
    return error
  }

  read<T = unknown>(key: string, options?: ScopeOptions): Promise<StoreRecord<T>>
  read<T = unknown>(query: QueryOptions): Promise<StoreRecord<T>[]>
  read<T>(
    keyOrQuery: string | QueryOptions,
    options?: ScopeOptions,
  ): Promise<StoreRecord<T> | StoreRecord<T>[]> {
    // Not async: the one-key read and the write are hot paths, and every promise layer
    // counts next to a bare Redis GET.
    try {
      this.#checkOpen()
      if (typeof keyOrQuery === 'object' && keyOrQuery !== null) {
        const scope = resolveScope(keyOrQuery)
        const query = resolveQuery(keyOrQuery)
        return this.scanRecords(scope, query).catch(this.#fail) as Promise<StoreRecord<T>[]>
      }
      const key = checkKey(keyOrQuery)
      const scope = resolveScope(options)
      return this.getOne(scope, key).then((record) => {
        if (!record) throw new StoreNotFoundError(key, describeScope(scope))
        return record as StoreRecord<T>
      }, this.#fail)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  write(key: string, value: StoreValue, options?: WriteOptions): Promise<void> {
    try {
      this.#checkOpen()
      checkKey(key)
      const scope = resolveScope(options)
      const now = Date.now()
      const expiresAt = resolveExpiresAt(options, now)
      const stored = encodeValue(value)
      const metadata = encodeMetadata(options?.metadata)
      // A record written already expired is never visible: it only removes the old one.
      if (expiresAt !== 0 && expiresAt <= now) return this.deleteOne(scope, key).then(done, this.#fail)
      return this.putOne(scope, key, stored, metadata, expiresAt).then(done, this.#fail)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  async delete(key: string, options?: ScopeOptions): Promise<void> {
    this.#checkOpen()
    checkKey(key)
    const scope = resolveScope(options)
    return this.#engine(() => this.deleteOne(scope, key))
  }

  async list(query?: QueryOptions): Promise<string[]> {
    this.#checkOpen()
    const scope = resolveScope(query)
    const q = resolveQuery(query)
    return this.#engine(() => this.scanKeys(scope, q))
  }

  async databases(options?: { namespace?: string }): Promise<string[]> {
    this.#checkOpen()
    const namespace = checkName('namespace', options?.namespace ?? DEFAULT_NAMESPACE)
    const tables = await this.#engine(() => this.listTables(namespace))
    return [...new Set(tables.map((t) => t.database))].sort()
  }

  async tables(options?: { namespace?: string; database?: string }): Promise<string[]> {
    this.#checkOpen()
    const namespace = checkName('namespace', options?.namespace ?? DEFAULT_NAMESPACE)
    const database = checkName('database', options?.database ?? DEFAULT_DATABASE)
    const tables = await this.#engine(() => this.listTables(namespace))
    return [...new Set(tables.filter((t) => t.database === database).map((t) => t.table))].sort()
  }

  close(): Promise<void> {
    this.#closed ??= this.closeEngine().catch(() => {})
    return this.#closed
  }

  /** Whether close() has been called. */
  protected get closed(): boolean {
    return this.#closed !== undefined
  }

  #checkOpen(): void {
    if (this.#closed) throw unavailable(`the ${this.name} store is closed`)
  }

  async #engine<R>(run: () => Promise<R>): Promise<R> {
    try {
      return await run()
    } catch (error) {
      return this.#fail(error)
    }
  }

  readonly #fail = (error: unknown): never => {
    throw engineError(this.name, this.explain(error))
  }
}
