import type { Pool, PoolConfig } from 'pg'
import { importPeer } from '../util/optional-import.js'
import { shareKey, withoutCredentials } from './address.js'

/** Where PostgreSQL is looked for when no address is given (MICRO_<BLOCK>_ADDRESS unset). */
export const DEFAULT_POSTGRES_ADDRESS = 'postgres://127.0.0.1:5432/postgres'

/** The `application_name` our sessions give the server (`pg_stat_activity`). */
export const POSTGRES_APPLICATION_NAME = 'micro-ts'

/**
 * Settings of every pool micro-ts opens. Every held sync lock and every waiter for one
 * keeps a pooled connection for as long as it holds or waits (advisory locks live in the
 * session), so the pool is larger than pg's default of 10; `connectionTimeoutMillis` also
 * bounds the wait for a free connection when all are taken.
 */
export const POOL_DEFAULTS: PoolConfig = {
  max: 20,
  connectionTimeoutMillis: 10_000,
}

/** `host:port[/db]` becomes `postgres://host:port[/db]`; URLs pass; nothing (or blanks) is the default address. */
export function postgresAddress(address: string | undefined): string {
  const text = address?.trim() ?? ''
  if (text === '') return DEFAULT_POSTGRES_ADDRESS
  return text.includes('://') ? text : `postgres://${text}`
}

/** One pool and who uses it. */
interface Entry {
  readonly key: string | undefined
  readonly pool: Pool
  users: number
}

/** Pools shared by address. */
const shared = new Map<string, Entry>()
/** Pools this module made and has not ended yet. */
const opened = new Set<Pool>()

/** Options of {@link acquirePostgres}. */
export interface AcquirePostgresOptions {
  /** `postgres://user:pass@host:port/database`; default `postgres://127.0.0.1:5432/postgres`. */
  address?: string | undefined
  /**
   * Pool settings (`max`, TLS, ...) over {@link POOL_DEFAULTS}. A caller with settings of
   * its own gets a pool of its own: settings cannot be compared.
   */
  config?: PoolConfig | undefined
  /** Named in the error when the client package is missing, e.g. `the postgres store`. */
  usedBy: string
}

/**
 * A user's handle on a pg pool. Every block of this process that names the same address
 * (store, sync) shares one pool: a query borrows a connection for its duration, a sync lock
 * for as long as it is held. Releasing the last handle ends the pool.
 */
export class PostgresLink {
  readonly pool: Pool
  /** The address without credentials: for messages. */
  readonly where: string
  readonly #entry: Entry
  #released = false

  constructor(entry: Entry, where: string) {
    this.#entry = entry
    this.pool = entry.pool
    this.where = where
  }

  /** Stop using the pool; the last user ends it (once the connections lent out are back). */
  async release(): Promise<void> {
    if (this.#released) return
    this.#released = true
    const entry = this.#entry
    if (--entry.users > 0) return
    if (entry.key !== undefined && shared.get(entry.key) === entry) shared.delete(entry.key)
    opened.delete(entry.pool)
    await entry.pool.end().catch(() => {})
  }
}

/**
 * A handle on the process's pool for `address` (made on first use; it connects on the
 * first query), or on a pool of its own when `config` is given.
 */
export async function acquirePostgres(options: AcquirePostgresOptions): Promise<PostgresLink> {
  const { Pool } = await importPeer<typeof import('pg')>('pg', options.usedBy)
  // No await from here on: the look-up and the count change together.
  const address = postgresAddress(options.address)
  const key = shareKey(address, options.config)
  let entry = key === undefined ? undefined : shared.get(key)
  if (!entry) {
    const pool = new Pool({
      connectionString: address,
      application_name: POSTGRES_APPLICATION_NAME,
      ...POOL_DEFAULTS,
      ...options.config,
    })
    // An idle connection that breaks is dropped by the pool; the event needs a listener.
    pool.on('error', () => {})
    entry = { key, pool, users: 0 }
    opened.add(pool)
    if (key !== undefined) shared.set(key, entry)
  }
  entry.users++
  return new PostgresLink(entry, withoutCredentials(address))
}

/** How many pools this module holds open now: for tests and diagnostics. */
export function openPostgresPools(): number {
  return opened.size
}
