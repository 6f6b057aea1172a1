import { BaseStore } from './base.js'
import { compareKeys, makeRecord, matches, page, type Query, type Scope } from './scope.js'
import type { StoreRecord, TableRef } from './store.js'
import { decodeMetadata, decodeValue, type StoredValue } from './value.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** How often expired records are dropped, in ms (they are invisible as soon as they expire). Default 60 s. */
  sweepInterval?: number
}

interface Entry {
  value: StoredValue
  metadata: string
  expiresAt: number
}

/**
 * Records in this process's memory, gone when it exits. Values are kept encoded, so what
 * comes back is a copy, exactly as from the other stores.
 */
export class MemoryStore extends BaseStore {
  readonly name = 'memory'
  // One map per `namespace\0database\0table`.
  readonly #tables = new Map<string, Map<string, Entry>>()
  readonly #sweeper: NodeJS.Timeout

  constructor(options: MemoryStoreOptions = {}) {
    super()
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepInterval ?? 60_000)
    this.#sweeper.unref()
  }

  protected async getOne(scope: Scope, key: string): Promise<StoreRecord | undefined> {
    const entry = this.#table(scope)?.get(key)
    const now = Date.now()
    if (!entry || expired(entry, now)) return undefined
    return makeRecord(key, decodeValue(entry.value), decodeMetadata(entry.metadata), entry.expiresAt, now)
  }

  protected async putOne(
    scope: Scope,
    key: string,
    value: StoredValue,
    metadata: string,
    expiresAt: number,
  ): Promise<void> {
    const id = tableId(scope)
    let table = this.#tables.get(id)
    if (!table) {
      table = new Map()
      this.#tables.set(id, table)
    }
    table.set(key, { value, metadata, expiresAt })
  }

  protected async deleteOne(scope: Scope, key: string): Promise<void> {
    const id = tableId(scope)
    const table = this.#tables.get(id)
    if (!table) return
    table.delete(key)
    if (table.size === 0) this.#tables.delete(id)
  }

  protected async scanRecords(scope: Scope, query: Query): Promise<StoreRecord[]> {
    const now = Date.now()
    return this.#select(scope, query, now).map(([key, e]) =>
      makeRecord(key, decodeValue(e.value), decodeMetadata(e.metadata), e.expiresAt, now),
    )
  }

  protected async scanKeys(scope: Scope, query: Query): Promise<string[]> {
    return this.#select(scope, query, Date.now()).map(([key]) => key)
  }

  protected async listTables(namespace: string): Promise<TableRef[]> {
    const now = Date.now()
    const out: TableRef[] = []
    for (const [id, table] of this.#tables) {
      const [ns, database, name] = id.split('\0') as [string, string, string]
      if (ns !== namespace) continue
      for (const entry of table.values()) {
        if (!expired(entry, now)) {
          out.push({ database, table: name })
          break
        }
      }
    }
    return out
  }

  protected async closeEngine(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#tables.clear()
  }

  #table(scope: Scope): Map<string, Entry> | undefined {
    return this.#tables.get(tableId(scope))
  }

  #select(scope: Scope, query: Query, now: number): [string, Entry][] {
    const table = this.#table(scope)
    if (!table) return []
    const hits: [string, Entry][] = []
    for (const item of table) if (matches(item[0], query) && !expired(item[1], now)) hits.push(item)
    hits.sort((a, b) => (query.desc ? compareKeys(b[0], a[0]) : compareKeys(a[0], b[0])))
    return page(hits, query)
  }

  #sweep(): void {
    const now = Date.now()
    for (const [id, table] of this.#tables) {
      for (const [key, entry] of table) if (expired(entry, now)) table.delete(key)
      if (table.size === 0) this.#tables.delete(id)
    }
  }
}

function tableId(scope: Scope): string {
  return `${scope.namespace}\0${scope.database}\0${scope.table}`
}

function expired(entry: Entry, now: number): boolean {
  return entry.expiresAt !== 0 && entry.expiresAt <= now
}
