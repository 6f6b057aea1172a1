import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { RootDatabase } from 'lmdb'
import { type LmdbHandle, lmdbDirectory, openLmdb } from '../engines/lmdb.js'
import { BaseStore } from './base.js'
import { above, keyOf, namespacePrefix, recordKey, tableOf, tablePrefix } from './file-keys.js'
import { makeRecord, type Query, type Scope } from './scope.js'
import type { StoreRecord, TableRef } from './store.js'
import { decodeEntry, encodeEntry, entryExpiresAt, type StoredValue, storedBytes } from './value.js'

/** Where the file store keeps its data unless told otherwise. */
export const DEFAULT_STORE_DIRECTORY = lmdbDirectory(undefined, 'store')

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** The directory of the database files (created when missing), or a `file://` URL. Default `~/.micro/store`. */
  directory?: string
  /** Resolve writes only once they are flushed to disk. Default true. */
  durable?: boolean
  /** How often expired records are removed, in ms (they are invisible once expired). Default 60 s. */
  sweepInterval?: number
}

type Db = RootDatabase<Buffer, Buffer>

/**
 * The embedded default: records in an LMDB database on disk (`<directory>/store.mdb`).
 * Persistent, and safe for several processes on one machine at once: LMDB serialises
 * writers with its own lock and readers see committed transactions only, so a write is
 * never lost or torn. Writes in one event-loop turn share one transaction and one flush.
 */
export class FileStore extends BaseStore {
  readonly name = 'file'
  readonly directory: string
  readonly #durable: boolean
  readonly #sweepInterval: number
  #handle: LmdbHandle<Buffer, Buffer> | undefined
  #opening: Promise<Db> | undefined
  #sweeper: NodeJS.Timeout | undefined
  readonly #prefixes = new Map<string, Buffer>()

  constructor(options: FileStoreOptions = {}) {
    super()
    this.directory = lmdbDirectory(options.directory, 'store')
    this.#durable = options.durable ?? true
    this.#sweepInterval = options.sweepInterval ?? 60_000
  }

  protected async getOne(scope: Scope, key: string): Promise<StoreRecord | undefined> {
    const db = this.#handle?.root ?? (await this.#open())
    const entry = db.get(recordKey(this.#prefix(scope), key))
    if (!entry) return undefined
    const now = Date.now()
    const { value, metadata, expiresAt } = decodeEntry(entry)
    if (expiresAt !== 0 && expiresAt <= now) return undefined
    return makeRecord(key, value, metadata, expiresAt, now)
  }

  protected async putOne(
    scope: Scope,
    key: string,
    value: StoredValue,
    metadata: string,
    expiresAt: number,
  ): Promise<void> {
    const db = this.#handle?.root ?? (await this.#open())
    const written = db.put(
      recordKey(this.#prefix(scope), key),
      storedBytes(encodeEntry(value, metadata, expiresAt)),
    )
    await written
    if (this.#durable) await flushedOf(written)
  }

  protected async deleteOne(scope: Scope, key: string): Promise<void> {
    const db = this.#handle?.root ?? (await this.#open())
    const removed = db.remove(recordKey(this.#prefix(scope), key))
    await removed
    if (this.#durable) await flushedOf(removed)
  }

  protected async scanRecords(scope: Scope, query: Query): Promise<StoreRecord[]> {
    const out: StoreRecord[] = []
    const now = Date.now()
    await this.#scan(scope, query, now, (key, entry) => {
      const { value, metadata, expiresAt } = decodeEntry(entry)
      out.push(makeRecord(key, value, metadata, expiresAt, now))
    })
    return out
  }

  protected async scanKeys(scope: Scope, query: Query): Promise<string[]> {
    const out: string[] = []
    await this.#scan(scope, query, Date.now(), (key) => out.push(key))
    return out
  }

  protected async listTables(namespace: string): Promise<TableRef[]> {
    const db = this.#handle?.root ?? (await this.#open())
    const now = Date.now()
    const end = above(namespacePrefix(namespace))
    const out: TableRef[] = []
    // Skip-scan: find the first live record at or after `start`, note its table, then jump
    // past that table, so the cost is per table rather than per record.
    let start: Buffer | undefined = namespacePrefix(namespace)
    while (start) {
      const from: Buffer = start
      start = undefined
      for (const { key, value } of db.getRange({ start: from, end })) {
        if (!live(value, now)) continue
        const { database, table } = tableOf(key)
        out.push({ database, table })
        start = above(tablePrefix({ namespace, database, table }))
        break
      }
    }
    return out
  }

  protected async closeEngine(): Promise<void> {
    clearInterval(this.#sweeper)
    await this.#opening?.catch(() => undefined)
    const handle = this.#handle
    this.#handle = undefined
    await handle?.release()
  }

  async #scan(
    scope: Scope,
    query: Query,
    now: number,
    hit: (key: string, entry: Buffer) => void,
  ): Promise<void> {
    const db = this.#handle?.root ?? (await this.#open())
    const prefix = this.#prefix(scope)
    const lower = recordKey(prefix, query.prefix)
    const upper = above(lower)
    const range = query.desc
      ? db.getRange({ start: upper, end: prefix, reverse: true })
      : db.getRange({ start: lower, end: upper })
    let skipped = 0
    let taken = 0
    for (const { key, value } of range) {
      if (query.desc && Buffer.compare(key, lower) < 0) break
      const k = keyOf(key, prefix.length)
      if (!k.endsWith(query.suffix) || !live(value, now)) continue
      if (skipped < query.offset) {
        skipped++
        continue
      }
      hit(k, value)
      if (query.limit !== 0 && ++taken >= query.limit) break
    }
  }

  #prefix(scope: Scope): Buffer {
    const id = `${scope.namespace}\0${scope.database}\0${scope.table}`
    let prefix = this.#prefixes.get(id)
    if (!prefix) {
      if (this.#prefixes.size > 10_000) this.#prefixes.clear()
      prefix = tablePrefix(scope)
      this.#prefixes.set(id, prefix)
    }
    return prefix
  }

  #open(): Promise<Db> {
    this.#opening ??= (async () => {
      mkdirSync(this.directory, { recursive: true })
      const handle = await openLmdb<Buffer, Buffer>(join(this.directory, 'store.mdb'), {
        keyEncoding: 'binary',
        encoding: 'binary',
        separateFlushed: true,
      })
      if (this.closed) {
        await handle.release()
        throw new Error('closed while opening')
      }
      const db = handle.root
      this.#handle = handle
      this.#sweeper = setInterval(() => void this.#sweep(db).catch(() => {}), this.#sweepInterval)
      this.#sweeper.unref()
      return db
    })()
    return this.#opening
  }

  /** Removes expired records, re-checking each inside the write transaction. */
  async #sweep(db: Db): Promise<void> {
    const now = Date.now()
    const expired: Buffer[] = []
    for (const { key, value } of db.getRange({})) {
      if (!live(value, now)) expired.push(Buffer.from(key))
      if (expired.length >= 1000) break
    }
    if (expired.length === 0) return
    await db.transaction(() => {
      for (const key of expired) {
        const entry = db.get(key)
        if (entry && !live(entry, Date.now())) db.remove(key)
      }
    })
  }
}

function live(entry: Uint8Array, now: number): boolean {
  const expiresAt = entryExpiresAt(entry)
  return expiresAt === 0 || expiresAt > now
}

/** The promise of a write's flush to disk (lmdb's `separateFlushed`), or the commit's. */
function flushedOf(written: Promise<unknown>): PromiseLike<unknown> {
  return (written as Promise<unknown> & { flushed?: PromiseLike<unknown> }).flushed ?? written
}
