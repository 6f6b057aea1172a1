import { createHash } from 'node:crypto'
import { badRequest, conflict, MicroError } from '../errors/errors.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import { isJsonType, JSON_TYPE } from './codecs.js'

const ID = 'micro.sidecar.state'

/** A stored value as the app gets it back. */
export interface StateEntry {
  body: Buffer
  contentType: string
  etag: string
}

/** Conditions and lifetime of a write. */
export interface StateWrite {
  /** Write only if the record's ETag is this (`*`: only if it exists). */
  ifMatch?: string
  /** Write only if there is no record yet. */
  ifNoneMatch?: boolean
  /** The record expires this many ms from now. */
  ttl?: number
}

/**
 * The app's state: one store record per key, in the table named after the service (so two
 * apps never share keys unless they share a name), with a version in its metadata that is
 * the ETag. JSON is stored as JSON (a TypeScript service or `micro store read` sees the
 * value), anything else as bytes with its content type.
 *
 * Optimistic concurrency, as Dapr's state API has it: a write or delete with `If-Match`
 * succeeds only while the record's ETag is still that one, else 409; every write bumps the
 * version. The store has no compare-and-set, so each write and delete reads, checks and
 * writes while holding a lock on the key from `sync` (MICRO_SYNC: every process on this
 * machine by default, Redis/PostgreSQL/NATS across machines): two sidecars of one app on
 * the same engines never both win.
 */
export class StateStore {
  readonly #store: () => Store
  readonly #sync: () => Sync
  readonly #table: string

  constructor(store: () => Store, sync: () => Sync, table: string) {
    this.#store = store
    this.#sync = sync
    this.#table = table
  }

  /** The entry at `key`, or undefined when there is none. */
  async get(key: string): Promise<StateEntry | undefined> {
    const record = await this.#read(key)
    if (record === undefined) return undefined
    const contentType =
      typeof record.metadata.contentType === 'string' ? record.metadata.contentType : JSON_TYPE
    const body = Buffer.isBuffer(record.value)
      ? record.value
      : record.value instanceof Uint8Array
        ? Buffer.from(record.value)
        : Buffer.from(JSON.stringify(record.value) ?? 'null')
    return {
      body,
      contentType: Buffer.isBuffer(record.value) ? contentType : JSON_TYPE,
      etag: etagOf(record.metadata),
    }
  }

  /** Write `body` at `key` if the conditions hold; resolves with the new ETag. */
  async set(key: string, body: Buffer, contentType: string, write: StateWrite = {}): Promise<string> {
    const value = isJsonType(contentType) ? parseJson(body) : body
    const ifMatch = write.ifMatch === undefined ? undefined : checkEtag(write.ifMatch)
    return this.#locked(key, async () => {
      const current = await this.#read(key)
      const etag = current === undefined ? undefined : etagOf(current.metadata)
      if (ifMatch !== undefined && (etag === undefined || (ifMatch !== '*' && ifMatch !== etag))) {
        throw mismatch(key, etag)
      }
      if (write.ifNoneMatch && current !== undefined)
        throw conflict(ID, `state ${key} already exists (ETag ${etag})`)
      const next = String(Number(etag ?? '0') + 1)
      await this.#store().write(key, value, {
        table: this.#table,
        metadata: { etag: next, contentType: isJsonType(contentType) ? JSON_TYPE : contentType },
        ...(write.ttl !== undefined ? { ttl: write.ttl } : {}),
      })
      return next
    })
  }

  /** Delete `key` (if its ETag is `ifMatch`, when given). Deleting a missing key without a condition is not an error. */
  async delete(key: string, ifMatch?: string): Promise<void> {
    const wanted = ifMatch === undefined ? undefined : checkEtag(ifMatch)
    await this.#locked(key, async () => {
      if (wanted !== undefined) {
        const current = await this.#read(key)
        const etag = current === undefined ? undefined : etagOf(current.metadata)
        if (etag === undefined || (wanted !== '*' && wanted !== etag)) throw mismatch(key, etag)
      }
      await this.#store().delete(key, { table: this.#table })
    })
  }

  async #read(key: string) {
    try {
      return await this.#store().read<unknown>(key, { table: this.#table })
    } catch (error) {
      if (error instanceof MicroError && error.code === 404) return undefined
      throw error
    }
  }

  async #locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const id = `sidecar-state.${this.#table}.${createHash('sha256').update(key).digest('hex').slice(0, 32)}`
    const lock = await this.#sync().lock(id, { ttl: 10_000, wait: 5000 })
    try {
      return await fn()
    } finally {
      await lock.unlock()
    }
  }
}

function etagOf(metadata: Record<string, unknown>): string {
  return typeof metadata.etag === 'string' ? metadata.etag : '0'
}

/** `"3"`, `W/"3"` and `3` are the same ETag; anything but digits (or `*`) is a 400, as Dapr's invalid ETag. */
function checkEtag(raw: string): string {
  const etag = raw
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
  if (etag === '*' || /^\d{1,15}$/.test(etag)) return etag
  throw badRequest(ID, `invalid ETag ${JSON.stringify(raw.slice(0, 40))}: ETags here are version numbers`)
}

function mismatch(key: string, etag: string | undefined): MicroError {
  return conflict(
    ID,
    etag === undefined
      ? `ETag mismatch: state ${key} does not exist`
      : `ETag mismatch: state ${key} is at ETag ${etag}; read it again and retry`,
  )
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw badRequest(ID, 'the state value is empty')
  try {
    return JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw badRequest(ID, `the state value is not valid JSON: ${(error as Error).message}`)
  }
}
