import type { Redis, RedisOptions } from 'ioredis'
import { acquireRedis, type RedisLink, redisAddress } from '../engines/redis.js'
import { BaseStore } from './base.js'
import { scanTable, scanTableNames } from './redis-scan.js'
import { DELETE, SCAN, TABLES, WRITE } from './redis-scripts.js'
import { makeRecord, type Query, type Scope } from './scope.js'
import type { StoreRecord, TableRef } from './store.js'
import { decodeEntry, encodeEntry, type StoredValue } from './value.js'

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port[/db]` (or `host:port`). Default `redis://127.0.0.1:6379`. */
  address?: string
  /** Root of every key this store writes. Default `micro:store:`. */
  prefix?: string
  /**
   * Keep a sorted index per table, so queries cost O(log n + matches) instead of a SCAN of
   * the whole database, at the price of writes and deletes being Lua scripts (a few times
   * the cost of a SET). Default false. Use one mode per database: records written
   * without the index are invisible to indexed queries.
   */
  index?: boolean
  /** Extra ioredis options (retries, TLS, ...). */
  redis?: RedisOptions
}

type Scripts = {
  storeWrite(...args: (string | Buffer | number)[]): Promise<number>
  storeDelete(...args: string[]): Promise<number>
  storeScanBuffer(...args: (string | number)[]): Promise<Buffer[]>
  storeTablesBuffer(...args: string[]): Promise<Buffer[]>
}

interface Names {
  record: string
  index: string
  expiries: string
  tables: string
  member: string
}

/**
 * Records in Redis: one string key per record, `<prefix>d:<ns>:<db>:<table>:<key>` (names
 * with ':' or '%' percent-encoded), holding the value with its metadata and expiry time,
 * expiring natively with `PX`. A read is one GET and a write one SET, so the store costs
 * little over bare ioredis. Queries SCAN the keyspace (redis-scan.ts) unless the `index`
 * option keeps sorted indexes (redis-scripts.ts). Needs one Redis (or a primary); with the
 * index, not a cluster.
 */
export class RedisStore extends BaseStore {
  readonly name = 'redis'
  readonly #root: string
  readonly #address: string
  readonly #indexed: boolean
  readonly #extra: RedisOptions
  readonly #names = new Map<string, Names>()
  #lastScope: Scope | undefined
  #lastNames: Names | undefined
  #link: RedisLink<Redis & Scripts> | undefined
  #connecting: Promise<RedisLink<Redis & Scripts>> | undefined

  constructor(options: RedisStoreOptions = {}) {
    super()
    this.#address = redisAddress(options.address)
    this.#root = options.prefix ?? 'micro:store:'
    this.#indexed = options.index ?? false
    this.#extra = options.redis ?? {}
  }

  protected getOne(scope: Scope, key: string): Promise<StoreRecord | undefined> {
    const link = this.#link
    if (!link) return this.#connect().then(() => this.getOne(scope, key))
    return link.client.getBuffer(this.#namesOf(scope).record + key).then((entry) => {
      if (!entry) return undefined
      const { value, metadata, expiresAt } = decodeEntry(entry)
      return makeRecord(key, value, metadata, expiresAt)
    })
  }

  protected putOne(
    scope: Scope,
    key: string,
    value: StoredValue,
    metadata: string,
    expiresAt: number,
  ): Promise<unknown> {
    const link = this.#link
    if (!link) return this.#connect().then(() => this.putOne(scope, key, value, metadata, expiresAt))
    const client = link.client
    const n = this.#namesOf(scope)
    const entry = encodeEntry(value, metadata, expiresAt)
    const now = Date.now()
    const px = expiresAt === 0 ? 0 : Math.max(1, Math.ceil(expiresAt - now))
    if (this.#indexed)
      return client.storeWrite(
        n.record + key,
        n.index,
        n.expiries,
        n.tables,
        key,
        entry,
        px,
        expiresAt,
        n.member,
        now,
        n.record,
      )
    if (px === 0) return client.set(n.record + key, entry)
    return client.set(n.record + key, entry, 'PX', px)
  }

  protected async deleteOne(scope: Scope, key: string): Promise<void> {
    const client = (this.#link ?? (await this.#connect())).client
    const n = this.#namesOf(scope)
    if (this.#indexed) await client.storeDelete(n.record + key, n.index, n.expiries, n.tables, key, n.member)
    else await client.del(n.record + key)
  }

  protected async scanRecords(scope: Scope, query: Query): Promise<StoreRecord[]> {
    const client = (this.#link ?? (await this.#connect())).client
    const n = this.#namesOf(scope)
    if (!this.#indexed) return scanTable(client, n.record, query, true)
    const flat = await this.#indexScan(client, n, query, true)
    const now = Date.now()
    const out: StoreRecord[] = []
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const { value, metadata, expiresAt } = decodeEntry(flat[i + 1] as Buffer)
      out.push(makeRecord((flat[i] as Buffer).toString('utf8'), value, metadata, expiresAt, now))
    }
    return out
  }

  protected async scanKeys(scope: Scope, query: Query): Promise<string[]> {
    const client = (this.#link ?? (await this.#connect())).client
    const n = this.#namesOf(scope)
    if (!this.#indexed) return (await scanTable(client, n.record, query, false)).map((r) => r.key)
    return (await this.#indexScan(client, n, query, false)).map((k) => k.toString('utf8'))
  }

  protected async listTables(namespace: string): Promise<TableRef[]> {
    const client = (this.#link ?? (await this.#connect())).client
    const ns = encodeName(namespace)
    const pairs = this.#indexed
      ? (await client.storeTablesBuffer(`${this.#root}t:${ns}`, this.#root, ns)).map((m) => {
          const [database = '', table = ''] = m.toString('utf8').split(':')
          return [database, table]
        })
      : await scanTableNames(client, `${this.#root}d:${ns}:`)
    return pairs.map(([database = '', table = '']) => ({
      database: decodeName(database),
      table: decodeName(table),
    }))
  }

  protected override explain(error: unknown): unknown {
    return this.#link ? this.#link.explain(error) : error
  }

  protected async closeEngine(): Promise<void> {
    const link = this.#link ?? (await this.#connecting?.catch(() => undefined))
    this.#link = undefined
    await link?.release()
  }

  #indexScan(client: Redis & Scripts, n: Names, query: Query, values: boolean): Promise<Buffer[]> {
    return client.storeScanBuffer(
      n.index,
      n.expiries,
      n.record,
      query.prefix,
      query.suffix,
      query.offset,
      query.limit,
      query.desc ? 1 : 0,
      values ? 1 : 0,
    )
  }

  #namesOf(scope: Scope): Names {
    // Calls without options share one scope object: skip building the map key for them.
    if (scope === this.#lastScope && this.#lastNames) return this.#lastNames
    const names = this.#namesById(scope)
    this.#lastScope = scope
    this.#lastNames = names
    return names
  }

  #namesById(scope: Scope): Names {
    const id = `${scope.namespace}\0${scope.database}\0${scope.table}`
    let names = this.#names.get(id)
    if (!names) {
      const ns = encodeName(scope.namespace)
      const member = `${encodeName(scope.database)}:${encodeName(scope.table)}`
      const path = `${ns}:${member}`
      names = {
        record: `${this.#root}d:${path}:`,
        index: `${this.#root}i:${path}`,
        expiries: `${this.#root}x:${path}`,
        tables: `${this.#root}t:${ns}`,
        member,
      }
      if (this.#names.size > 10_000) this.#names.clear()
      this.#names.set(id, names)
    }
    return names
  }

  #connect(): Promise<RedisLink<Redis & Scripts>> {
    this.#connecting ??= (async () => {
      const link = await acquireRedis<Redis & Scripts>({
        address: this.#address,
        options: this.#extra,
        usedBy: 'the redis store',
      })
      const client = link.client
      client.defineCommand('storeWrite', { numberOfKeys: 4, lua: WRITE })
      client.defineCommand('storeDelete', { numberOfKeys: 4, lua: DELETE })
      client.defineCommand('storeScan', { numberOfKeys: 2, lua: SCAN })
      client.defineCommand('storeTables', { numberOfKeys: 1, lua: TABLES })
      if (this.closed) {
        await link.release()
        throw new Error('closed while connecting')
      }
      this.#link = link
      return link
    })()
    return this.#connecting
  }
}

// Names go into `:`-separated keys, so ':' and '%' are percent-encoded.
function encodeName(name: string): string {
  return name.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'))
}

function decodeName(text: string): string {
  return text.replace(/%3A|%25/g, (c) => (c === '%25' ? '%' : ':'))
}
