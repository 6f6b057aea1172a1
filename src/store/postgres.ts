import type { Pool, PoolConfig } from 'pg'
import { acquirePostgres, type PostgresLink } from '../engines/postgres.js'
import { importPeer } from '../util/optional-import.js'
import { BaseStore } from './base.js'
import { invalid } from './errors.js'
import { isUndefinedTable, PgCatalog } from './postgres-tables.js'
import { makeRecord, type Query, type Scope } from './scope.js'
import type { StoreRecord, TableRef } from './store.js'
import { decodeValue, type StoredValue, storedBytes } from './value.js'

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/database`. Default `postgres://127.0.0.1:5432/postgres`. */
  address?: string
  /** Schemas are `<schemaPrefix><namespace>`. Default `micro_store_`. */
  schemaPrefix?: string
  /** How often expired rows of the tables this store has used are deleted, in ms. Default 60 s. */
  sweepInterval?: number
  /**
   * Pool settings (`max` connections, TLS, ...) passed to pg. With them the store gets a
   * pool of its own instead of the one the process's PostgreSQL blocks share.
   */
  pool?: PoolConfig
}

interface Row {
  key: string
  value: Buffer
  metadata: Record<string, unknown>
  remaining: number | null
}

const LIVE = '(expires_at IS NULL OR expires_at > now())'
const COLUMNS = `key, value, metadata, (EXTRACT(EPOCH FROM (expires_at - now())) * 1000)::float8 AS remaining`

/**
 * Records in PostgreSQL: one table per database/table pair, in a schema per namespace
 * (see postgres-tables.ts for the names). Columns: `key text COLLATE "C"` (primary key,
 * so order and prefix ranges are by code point), `value bytea` (a tag byte, then JSON text
 * or the bytes), `metadata jsonb`, `expires_at timestamptz`. Expiry uses the database's
 * clock: expired rows are filtered out of every read and deleted by a periodic sweep.
 */
export class PostgresStore extends BaseStore {
  readonly name = 'postgres'
  readonly #options: PostgresStoreOptions
  #pool: Pool | undefined
  #link: PostgresLink | undefined
  #catalog: PgCatalog | undefined
  #connecting: Promise<PgCatalog> | undefined
  #sweeper: NodeJS.Timeout | undefined

  constructor(options: PostgresStoreOptions = {}) {
    super()
    this.#options = options
  }

  protected async getOne(scope: Scope, key: string): Promise<StoreRecord | undefined> {
    const rows = await this.#onTable(scope, false, (t) =>
      this.#query<Row>(`SELECT ${COLUMNS} FROM ${t} WHERE key = $1 AND ${LIVE}`, [key]),
    )
    const row = rows?.[0]
    return row ? toRecord(row, Date.now()) : undefined
  }

  protected async putOne(
    scope: Scope,
    key: string,
    value: StoredValue,
    metadata: string,
    expiresAt: number,
  ): Promise<void> {
    // The TTL left is applied with the database's clock, so clock skew cannot shorten it.
    const ttl = expiresAt === 0 ? null : Math.max(1, expiresAt - Date.now())
    await this.#onTable(scope, true, (t) =>
      this.#query(
        `INSERT INTO ${t} (key, value, metadata, expires_at)
         VALUES ($1, $2, $3, now() + $4::float8 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, metadata = EXCLUDED.metadata,
           expires_at = EXCLUDED.expires_at`,
        [key, storedBytes(value), metadata === '' ? '{}' : metadata, ttl],
      ),
    )
  }

  protected async deleteOne(scope: Scope, key: string): Promise<void> {
    await this.#onTable(scope, false, (t) => this.#query(`DELETE FROM ${t} WHERE key = $1`, [key]))
  }

  protected async scanRecords(scope: Scope, query: Query): Promise<StoreRecord[]> {
    const rows = await this.#scan(scope, query, COLUMNS)
    const now = Date.now()
    return rows.map((row) => toRecord(row, now))
  }

  protected async scanKeys(scope: Scope, query: Query): Promise<string[]> {
    return (await this.#scan(scope, query, 'key')).map((row) => row.key)
  }

  protected async listTables(namespace: string): Promise<TableRef[]> {
    const catalog = this.#catalog ?? (await this.#connect())
    const out: TableRef[] = []
    for (const t of await catalog.list(namespace)) {
      try {
        const rows = await this.#query<{ live: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM ${t.sql} WHERE ${LIVE}) AS live`,
        )
        if (rows[0]?.live) out.push({ database: t.database, table: t.table })
      } catch (error) {
        if (!isUndefinedTable(error)) throw error
      }
    }
    return out
  }

  protected async closeEngine(): Promise<void> {
    clearInterval(this.#sweeper)
    await this.#connecting?.catch(() => undefined)
    const link = this.#link
    this.#link = undefined
    this.#pool = undefined
    await link?.release()
  }

  async #scan(scope: Scope, query: Query, columns: string): Promise<Row[]> {
    const filters = [LIVE]
    const params: unknown[] = [query.offset, query.limit === 0 ? null : query.limit]
    if (query.prefix) {
      params.push(`${escapeLike(query.prefix)}%`)
      filters.push(`key LIKE $${params.length}`)
    }
    if (query.suffix) {
      params.push(`%${escapeLike(query.suffix)}`)
      filters.push(`key LIKE $${params.length}`)
    }
    const order = query.desc ? 'DESC' : 'ASC'
    const rows = await this.#onTable(scope, false, (t) =>
      this.#query<Row>(
        `SELECT ${columns} FROM ${t} WHERE ${filters.join(' AND ')} ORDER BY key ${order} OFFSET $1 LIMIT $2`,
        params,
      ),
    )
    return rows ?? []
  }

  /**
   * Runs `run` on the table's SQL name. Without `create`, a table never written gives
   * undefined. A table dropped behind our back is forgotten (and re-created for writes).
   */
  async #onTable<R>(
    scope: Scope,
    create: boolean,
    run: (table: string) => Promise<R>,
  ): Promise<R | undefined> {
    const catalog = this.#catalog ?? (await this.#connect())
    for (let attempt = 0; ; attempt++) {
      const table = create ? await catalog.ensure(scope) : await catalog.find(scope)
      if (!table) return undefined
      try {
        return await run(table)
      } catch (error) {
        if (!isUndefinedTable(error) || attempt > 0) throw error
        catalog.forget(scope)
      }
    }
  }

  async #query<R>(sql: string, params?: unknown[]): Promise<R[]> {
    const pool = this.#pool
    if (!pool) throw new Error('not connected')
    try {
      return (await pool.query(sql, params)).rows as R[]
    } catch (error) {
      // Class 22 is "data exception": input PostgreSQL refuses (e.g. \u0000 in jsonb).
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string' && code.startsWith('22'))
        throw invalid(`postgres store: ${(error as Error).message}`)
      throw error
    }
  }

  #connect(): Promise<PgCatalog> {
    this.#connecting ??= (async () => {
      const usedBy = 'the postgres store'
      const { escapeIdentifier } = await importPeer<typeof import('pg')>('pg', usedBy)
      const link = await acquirePostgres({
        address: this.#options.address,
        config: this.#options.pool,
        usedBy,
      })
      const pool = link.pool
      this.#link = link
      this.#pool = pool
      this.#catalog = new PgCatalog(pool, this.#options.schemaPrefix ?? 'micro_store_', escapeIdentifier)
      this.#sweeper = setInterval(() => void this.#sweep(), this.#options.sweepInterval ?? 60_000)
      this.#sweeper.unref()
      return this.#catalog
    })()
    return this.#connecting
  }

  async #sweep(): Promise<void> {
    for (const table of this.#catalog?.known() ?? []) {
      if (this.closed) return
      await this.#query(`DELETE FROM ${table} WHERE expires_at <= now()`).catch(() => {})
    }
  }
}

function toRecord(row: Row, now: number): StoreRecord {
  const expiresAt = row.remaining === null ? 0 : now + Math.max(1, row.remaining)
  return makeRecord(row.key, decodeValue(row.value), row.metadata, expiresAt, now)
}

/** Escapes LIKE's wildcards and its escape character (backslash). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}
