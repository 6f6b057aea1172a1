/** The database and the table every call uses unless it names others (as Go Micro). */
export const DEFAULT_DATABASE = 'micro'
/** The table every call uses unless it names another (`micro`, as Go Micro). */
export const DEFAULT_TABLE = 'micro'

/**
 * What a record holds: any JSON-serialisable value (stored as JSON text, so it comes back
 * as `JSON.parse` would give it) or bytes (a `Uint8Array`, which comes back as a Buffer).
 */
export type StoreValue = unknown

/** One record as read back. */
export interface StoreRecord<T = unknown> {
  key: string
  /** JSON data, or a Buffer when bytes were written. */
  value: T
  /** Free-form JSON metadata written with the record (`{}` when none). */
  metadata: Record<string, unknown>
  /** Milliseconds left before the record expires; absent when it never expires. */
  expiry?: number
}

/** Where a call applies. The namespace scopes everything (a tenant never sees another's). */
export interface ScopeOptions {
  /** Defaults to `micro`. */
  namespace?: string
  /** Defaults to `micro`. */
  database?: string
  /** Defaults to `micro`. */
  table?: string
}

/** How many keys, from where and in which order. Filters apply before offset and limit. */
export interface QueryOptions extends ScopeOptions {
  /** Only keys starting with this. */
  prefix?: string
  /** Only keys ending with this. */
  suffix?: string
  /** At most this many; 0 or absent means no limit. */
  limit?: number
  /** Skip this many matches first. */
  offset?: number
  /** By key, in code point order. Default `asc`. */
  order?: 'asc' | 'desc'
}

export interface WriteOptions extends ScopeOptions {
  /** Stored with the record and returned on read; must be JSON-serialisable. */
  metadata?: Record<string, unknown>
  /** The record expires this many ms from now. Wins over `expiry`. */
  ttl?: number
  /** The record expires at this moment (a Date or ms since the epoch). */
  expiry?: Date | number
}

/** A namespace's database and table, as `tables()` lists them. */
export interface TableRef {
  database: string
  table: string
}

/**
 * A key-value store with databases and tables inside namespaces. Keys are non-empty
 * strings; reads and lists are in code point order of the key.
 */
export interface Store {
  /** The implementation's name: `memory`, `file`, `redis`, `postgres`, `nats`. */
  readonly name: string
  /** One record by exact key; rejects with a {@link StoreNotFoundError} (404) when missing. */
  read<T = unknown>(key: string, options?: ScopeOptions): Promise<StoreRecord<T>>
  /** Every record matching the query (an empty array when none). */
  read<T = unknown>(query: QueryOptions): Promise<StoreRecord<T>[]>
  /** Create or replace a record. */
  write(key: string, value: StoreValue, options?: WriteOptions): Promise<void>
  /** Remove a record; removing a missing key is not an error. */
  delete(key: string, options?: ScopeOptions): Promise<void>
  /** Keys matching the query. */
  list(query?: QueryOptions): Promise<string[]>
  /** Databases of the namespace that hold at least one record, sorted. */
  databases(options?: { namespace?: string }): Promise<string[]>
  /** Tables of a database (default `micro`) that hold at least one record, sorted. */
  tables(options?: { namespace?: string; database?: string }): Promise<string[]>
  /** Release connections and timers; later calls reject with a 503. */
  close(): Promise<void>
}
