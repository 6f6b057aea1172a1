import { acquirePlatform, type PlatformLink, platformAddress } from '../engines/platform.js'
import { MicroError } from '../errors/errors.js'
import { fromWire, type WireRecord } from '../platform/services/store.js'
import { encodeBytes } from '../platform/services/wire.js'
import { StoreNotFoundError, unavailable } from './errors.js'
import { checkKey, describeScope, resolveExpiresAt, resolveScope } from './scope.js'
import type { QueryOptions, ScopeOptions, Store, StoreRecord, StoreValue, WriteOptions } from './store.js'
import { encodeValue } from './value.js'

/** Options of {@link ServiceStore}. */
export interface ServiceStoreOptions {
  /** The platform, `host:port`. Default MICRO_PLATFORM, else `127.0.0.1:8081`. */
  address?: string
}

/**
 * The store of a platform (`micro server`), through its `Store` service: what Micro v3's
 * service profile gave every service. Values, metadata, TTLs and queries behave as on the
 * server's engine; namespaces map to the server's. Every call is one request to the
 * platform; while it is unreachable calls fail with a 503.
 */
export class ServiceStore implements Store {
  readonly name = 'service'
  /** The platform this engine talks to, `host:port`. */
  readonly address: string
  #link: PlatformLink | undefined
  #closed = false

  constructor(options: ServiceStoreOptions = {}) {
    this.address = platformAddress(options.address)
  }

  read<T = unknown>(key: string, options?: ScopeOptions): Promise<StoreRecord<T>>
  read<T = unknown>(query: QueryOptions): Promise<StoreRecord<T>[]>
  async read<T>(
    keyOrQuery: string | QueryOptions,
    options?: ScopeOptions,
  ): Promise<StoreRecord<T> | StoreRecord<T>[]> {
    if (typeof keyOrQuery === 'string') {
      const key = checkKey(keyOrQuery)
      const where = resolveScope(options)
      let records: WireRecord[]
      try {
        records = (await this.#call<{ records: WireRecord[] }>('Store.Read', { ...scope(options), key }))
          .records
      } catch (error) {
        // The platform's 404 keeps the store's own type, so callers can test for it.
        if (error instanceof MicroError && error.code === 404)
          throw new StoreNotFoundError(key, `${describeScope(where)} on the platform`)
        throw error
      }
      const [record] = records
      if (!record) throw new StoreNotFoundError(key, `${describeScope(where)} on the platform`)
      return fromWire<T>(record)
    }
    const { records } = await this.#call<{ records: WireRecord[] }>('Store.Read', query(keyOrQuery))
    return records.map((record) => fromWire<T>(record))
  }

  async write(key: string, value: StoreValue, options?: WriteOptions): Promise<void> {
    checkKey(key)
    // Checked here, so what JSON cannot carry is a 400 rather than a request that loses it.
    encodeValue(value)
    const expiresAt = resolveExpiresAt(options)
    const body: Record<string, unknown> = { ...scope(options), key, metadata: options?.metadata }
    if (value instanceof Uint8Array) body.bytes = encodeBytes(value)
    else body.value = value
    if (options?.ttl !== undefined) body.ttl = options.ttl
    else if (expiresAt !== 0) body.expiry = expiresAt
    await this.#call('Store.Write', body)
  }

  async delete(key: string, options?: ScopeOptions): Promise<void> {
    await this.#call('Store.Delete', { ...scope(options), key: checkKey(key) })
  }

  async list(options?: QueryOptions): Promise<string[]> {
    return (await this.#call<{ keys: string[] }>('Store.List', query(options))).keys
  }

  async databases(options?: { namespace?: string }): Promise<string[]> {
    return (await this.#call<{ databases: string[] }>('Store.Databases', { namespace: options?.namespace }))
      .databases
  }

  async tables(options?: { namespace?: string; database?: string }): Promise<string[]> {
    const request = { namespace: options?.namespace, database: options?.database }
    return (await this.#call<{ tables: string[] }>('Store.Tables', request)).tables
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#link?.release()
    this.#link = undefined
  }

  async #call<T>(endpoint: string, request: unknown): Promise<T> {
    if (this.#closed) throw unavailable(`the service store of ${this.address} is closed`)
    this.#link ??= acquirePlatform(this.address)
    return this.#link.call<T>(endpoint, request)
  }
}

function scope(options: ScopeOptions | undefined): ScopeOptions {
  return { namespace: options?.namespace, database: options?.database, table: options?.table }
}

function query(options: QueryOptions | undefined): QueryOptions {
  return {
    ...scope(options),
    prefix: options?.prefix,
    suffix: options?.suffix,
    limit: options?.limit,
    offset: options?.offset,
    order: options?.order,
  }
}
