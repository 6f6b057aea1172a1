import { createHash } from 'node:crypto'
import type { Pool, PoolClient } from 'pg'
import type { Scope } from './scope.js'

// Any advisory lock key will do as long as only table creation uses it; it serialises
// schema and table creation across processes (concurrent CREATE ... IF NOT EXISTS can
// still fail on the catalog's unique index).
const DDL_LOCK = 0x6d_5f_73_74_6f_72_65n // "m_store"
const MAX_IDENTIFIER = 63

/** A table's SQL name, with its database and table. */
export interface PgTable {
  database: string
  table: string
  /** `"schema"."relation"`, quoted. */
  sql: string
}

/**
 * Where the PostgreSQL store keeps what. One schema per namespace, `<schemaPrefix><ns>`
 * (or `<schemaPrefix>h_<sha256/32>` when that would pass 63 bytes). In it, a catalog
 * `_tables(database, "table", relname)` and one table per database/table pair, named
 * `<database>/<table>` when that fits and is free, else `t_<sha256/32>`.
 */
export class PgCatalog {
  readonly #pool: Pool
  readonly #prefix: string
  readonly #escape: (name: string) => string
  readonly #known = new Map<string, string>()

  constructor(pool: Pool, schemaPrefix: string, escapeIdentifier: (name: string) => string) {
    this.#pool = pool
    this.#prefix = schemaPrefix
    this.#escape = escapeIdentifier
  }

  /** The schema of a namespace. */
  schemaOf(namespace: string): string {
    const name = this.#prefix + namespace
    return Buffer.byteLength(name) <= MAX_IDENTIFIER ? name : `${this.#prefix}h_${hash(namespace)}`
  }

  /** The table's quoted name, or undefined when nothing was ever written to it. */
  async find(scope: Scope): Promise<string | undefined> {
    const id = idOf(scope)
    const known = this.#known.get(id)
    if (known) return known
    const schema = this.schemaOf(scope.namespace)
    try {
      const { rows } = await this.#pool.query<{ relname: string }>(
        `SELECT relname FROM ${this.#escape(schema)}._tables WHERE database = $1 AND "table" = $2`,
        [scope.database, scope.table],
      )
      const relname = rows[0]?.relname
      return relname === undefined ? undefined : this.#remember(id, schema, relname)
    } catch (error) {
      if (isUndefinedTable(error)) return undefined
      throw error
    }
  }

  /** The table's quoted name, creating schema, catalog and table when missing. */
  async ensure(scope: Scope): Promise<string> {
    const found = await this.find(scope)
    if (found) return found
    const schema = this.schemaOf(scope.namespace)
    const s = this.#escape(schema)
    const client = await this.#pool.connect()
    try {
      await client.query('BEGIN')
      await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK.toString()])
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}._tables (database text NOT NULL, "table" text NOT NULL,
          relname text NOT NULL UNIQUE, PRIMARY KEY (database, "table"))`,
      )
      const relname = await this.#relname(client, s, scope)
      const t = `${s}.${this.#escape(relname)}`
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${t} (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL,
          metadata jsonb NOT NULL DEFAULT '{}', expires_at timestamptz)`,
      )
      await client.query(
        `CREATE INDEX IF NOT EXISTS ${this.#escape(`${relname.slice(0, 50)}_expiry`)} ON ${t} (expires_at)
          WHERE expires_at IS NOT NULL`,
      )
      await client.query(
        `INSERT INTO ${s}._tables (database, "table", relname) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [scope.database, scope.table, relname],
      )
      await client.query('COMMIT')
      return this.#remember(idOf(scope), schema, relname)
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }

  /** Every table of a namespace. */
  async list(namespace: string): Promise<PgTable[]> {
    const schema = this.schemaOf(namespace)
    try {
      const { rows } = await this.#pool.query<{ database: string; table: string; relname: string }>(
        `SELECT database, "table", relname FROM ${this.#escape(schema)}._tables`,
      )
      return rows.map((r) => ({
        database: r.database,
        table: r.table,
        sql: `${this.#escape(schema)}.${this.#escape(r.relname)}`,
      }))
    } catch (error) {
      if (isUndefinedTable(error)) return []
      throw error
    }
  }

  /** Forget a cached name (its table was dropped behind our back). */
  forget(scope: Scope): void {
    this.#known.delete(idOf(scope))
  }

  /** The tables this process has used, for the expiry sweep. */
  known(): string[] {
    return [...new Set(this.#known.values())]
  }

  async #relname(client: PoolClient, schema: string, scope: Scope): Promise<string> {
    const { rows } = await client.query<{ relname: string }>(
      `SELECT relname FROM ${schema}._tables WHERE database = $1 AND "table" = $2`,
      [scope.database, scope.table],
    )
    if (rows[0]) return rows[0].relname
    const readable = `${scope.database}/${scope.table}`
    if (Buffer.byteLength(readable) <= MAX_IDENTIFIER && !readable.startsWith('_')) {
      const taken = await client.query(`SELECT 1 FROM ${schema}._tables WHERE relname = $1`, [readable])
      if (taken.rowCount === 0) return readable
    }
    return `t_${hash(`${scope.database}\0${scope.table}`)}`
  }

  #remember(id: string, schema: string, relname: string): string {
    const sql = `${this.#escape(schema)}.${this.#escape(relname)}`
    this.#known.set(id, sql)
    return sql
  }
}

function idOf(scope: Scope): string {
  return `${scope.namespace}\0${scope.database}\0${scope.table}`
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}

/** 42P01 undefined_table, 3F000 invalid_schema_name. */
export function isUndefinedTable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return code === '42P01' || code === '3F000'
}
