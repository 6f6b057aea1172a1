import type { QueryOptions, ScopeOptions, Store as StoreEngine, StoreRecord } from '../../store/store.js'
import {
  decodeBytes,
  encodeBytes,
  type Fields,
  fields,
  invalid,
  namespaceOf,
  optionalNumber,
  optionalString,
  requiredString,
} from './wire.js'

/**
 * A record as it travels: a JSON value in `value`, or bytes as base64 in `bytes` (exactly
 * one of them); `expiry` is the ms left, absent when it never expires.
 */
export interface WireRecord {
  key: string
  value?: unknown
  bytes?: string
  metadata: Record<string, unknown>
  expiry?: number
}

/**
 * The store as a service: `Store.Read`, `Write`, `Delete`, `List`, `Databases`, `Tables`,
 * in front of the server's store engine. Every request names its `namespace` (default
 * `micro`), `database` and `table` (default `micro`); the engine keeps namespaces apart.
 */
export class Store {
  readonly #store: StoreEngine

  constructor(store: StoreEngine) {
    this.#store = store
  }

  /**
   * `{key}` reads one record (404 when missing); without a key, `{prefix?, suffix?, limit?,
   * offset?, order?}` reads every match. Both answer `{records}`.
   */
  async Read(request: unknown): Promise<{ records: WireRecord[] }> {
    const req = fields(request, 'Store.Read')
    const key = optionalString(req, 'key')
    if (key === undefined) return { records: (await this.#store.read(queryOf(req))).map(toWire) }
    if (req.prefix !== undefined || req.suffix !== undefined)
      throw invalid('Store.Read takes a key or a query (prefix, suffix), not both')
    return { records: [toWire(await this.#store.read(key, scopeOf(req)))] }
  }

  /** `{key, value | bytes, metadata?, ttl?, expiry?}`: create or replace a record. */
  async Write(request: unknown): Promise<Record<string, never>> {
    const req = fields(request, 'Store.Write')
    const key = requiredString(req, 'key')
    const hasBytes = req.bytes !== undefined
    if (hasBytes === (req.value !== undefined))
      throw invalid('Store.Write takes a JSON value in value, or base64 bytes in bytes (one of them)')
    const value = hasBytes ? decodeBytes(req.bytes, 'bytes') : req.value
    const metadata = req.metadata
    if (
      metadata !== undefined &&
      (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    )
      throw invalid('metadata must be a JSON object')
    await this.#store.write(key, value, {
      ...scopeOf(req),
      metadata: metadata as Record<string, unknown> | undefined,
      ttl: optionalNumber(req, 'ttl'),
      expiry: optionalNumber(req, 'expiry'),
    })
    return {}
  }

  /** `{key}`: remove a record; a missing key is fine. */
  async Delete(request: unknown): Promise<Record<string, never>> {
    const req = fields(request, 'Store.Delete')
    await this.#store.delete(requiredString(req, 'key'), scopeOf(req))
    return {}
  }

  /** `{prefix?, suffix?, limit?, offset?, order?}` → `{keys}`. */
  async List(request: unknown): Promise<{ keys: string[] }> {
    const req = fields(request ?? {}, 'Store.List')
    return { keys: await this.#store.list(queryOf(req)) }
  }

  /** `{namespace?}` → `{databases}` holding records. */
  async Databases(request: unknown): Promise<{ databases: string[] }> {
    const req = fields(request ?? {}, 'Store.Databases')
    return { databases: await this.#store.databases({ namespace: namespaceOf(req) }) }
  }

  /** `{namespace?, database?}` → `{tables}` of the database holding records. */
  async Tables(request: unknown): Promise<{ tables: string[] }> {
    const req = fields(request ?? {}, 'Store.Tables')
    return {
      tables: await this.#store.tables({
        namespace: namespaceOf(req),
        database: optionalString(req, 'database'),
      }),
    }
  }
}

function scopeOf(req: Fields): ScopeOptions {
  return {
    namespace: namespaceOf(req),
    database: optionalString(req, 'database'),
    table: optionalString(req, 'table'),
  }
}

function queryOf(req: Fields): QueryOptions {
  const order = optionalString(req, 'order')
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw invalid('order must be asc or desc')
  return {
    ...scopeOf(req),
    prefix: optionalString(req, 'prefix'),
    suffix: optionalString(req, 'suffix'),
    limit: optionalNumber(req, 'limit'),
    offset: optionalNumber(req, 'offset'),
    order,
  }
}

/** A record for the wire: bytes (a Buffer from the engine) as base64. */
export function toWire(record: StoreRecord): WireRecord {
  const wire: WireRecord =
    record.value instanceof Uint8Array
      ? { key: record.key, bytes: encodeBytes(record.value), metadata: record.metadata }
      : { key: record.key, value: record.value, metadata: record.metadata }
  if (record.expiry !== undefined) wire.expiry = record.expiry
  return wire
}

/** A record from the wire, as the Store interface returns it (bytes as a Buffer). */
export function fromWire<T>(wire: WireRecord): StoreRecord<T> {
  const value = wire.bytes !== undefined ? decodeBytes(wire.bytes, 'bytes') : wire.value
  const record: StoreRecord<T> = { key: wire.key, value: value as T, metadata: wire.metadata ?? {} }
  if (wire.expiry !== undefined) record.expiry = wire.expiry
  return record
}
