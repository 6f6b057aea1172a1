import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import { invalid } from './errors.js'
import {
  DEFAULT_DATABASE,
  DEFAULT_TABLE,
  type QueryOptions,
  type ScopeOptions,
  type StoreRecord,
  type WriteOptions,
} from './store.js'

/** Longest key, in UTF-8 bytes (LMDB's key limit minus room for the scope). */
export const MAX_KEY_BYTES = 1024
/** Longest namespace, database or table name, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 255

/** A call's namespace, database and table, defaults applied and checked. */
export interface Scope {
  namespace: string
  database: string
  table: string
}

/** A query with defaults applied: '' means no prefix/suffix, 0 means no limit. */
export interface Query {
  prefix: string
  suffix: string
  limit: number
  offset: number
  desc: boolean
}

const DEFAULT_SCOPE: Scope = Object.freeze({
  namespace: DEFAULT_NAMESPACE,
  database: DEFAULT_DATABASE,
  table: DEFAULT_TABLE,
})

export function resolveScope(options: ScopeOptions | undefined): Scope {
  if (
    !options ||
    (options.namespace === undefined && options.database === undefined && options.table === undefined)
  )
    return DEFAULT_SCOPE
  return {
    namespace: checkName('namespace', options?.namespace ?? DEFAULT_NAMESPACE),
    database: checkName('database', options?.database ?? DEFAULT_DATABASE),
    table: checkName('table', options?.table ?? DEFAULT_TABLE),
  }
}

export function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw invalid(`the ${what} must be a non-empty string`)
  if (name.includes('\0')) throw invalid(`the ${what} must not contain NUL characters`)
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names need no counting.
  if (name.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(name) > MAX_NAME_BYTES)
    throw invalid(`the ${what} is longer than ${MAX_NAME_BYTES} bytes`)
  return name
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') throw invalid('the key must be a non-empty string')
  if (key.includes('\0')) throw invalid('the key must not contain NUL characters')
  if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw invalid(`the key is longer than ${MAX_KEY_BYTES} bytes`)
  return key
}

export function resolveQuery(options: QueryOptions | undefined): Query {
  const order = options?.order ?? 'asc'
  if (order !== 'asc' && order !== 'desc') throw invalid(`order must be asc or desc, not ${String(order)}`)
  return {
    prefix: affix('prefix', options?.prefix),
    suffix: affix('suffix', options?.suffix),
    limit: count('limit', options?.limit),
    offset: count('offset', options?.offset),
    desc: order === 'desc',
  }
}

function affix(what: string, value: unknown): string {
  if (value === undefined) return ''
  if (typeof value !== 'string') throw invalid(`${what} must be a string`)
  if (value.includes('\0')) throw invalid(`${what} must not contain NUL characters`)
  return value
}

function count(what: string, value: unknown): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid(`${what} must be a whole number >= 0, not ${String(value)}`)
  return value
}

/** When a write expires, ms since the epoch, 0 for never. `ttl` wins over `expiry`. */
export function resolveExpiresAt(options: WriteOptions | undefined, now = Date.now()): number {
  const ttl = options?.ttl
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0)
      throw invalid(`ttl must be a positive number of ms, not ${String(ttl)}`)
    return now + ttl
  }
  const expiry = options?.expiry
  if (expiry === undefined) return 0
  const at = expiry instanceof Date ? expiry.getTime() : expiry
  if (typeof at !== 'number' || !Number.isFinite(at) || at <= 0)
    throw invalid('expiry must be a Date or ms since the epoch')
  return at
}

/** Whether a key passes the query's prefix and suffix. */
export function matches(key: string, query: Query): boolean {
  return key.startsWith(query.prefix) && key.endsWith(query.suffix)
}

// Maps UTF-16 code units so that comparing them gives code point order (the order of the
// UTF-8 bytes, which LMDB, Redis and PostgreSQL's "C" collation use): surrogates sort
// above every other BMP unit.
function fixup(unit: number): number {
  return unit >= 0xd800 ? (unit >= 0xe000 ? unit - 0x800 : unit + 0x2000) : unit
}

/** Compares keys by code point, the order every store returns them in. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) return fixup(x) - fixup(y)
  }
  return a.length - b.length
}

/** A record as returned; `expiry` is the time left (at least 1 ms), absent for never. */
export function makeRecord<T>(
  key: string,
  value: T,
  metadata: Record<string, unknown>,
  expiresAt: number,
  now = Date.now(),
): StoreRecord<T> {
  if (expiresAt === 0) return { key, value, metadata }
  return { key, value, metadata, expiry: Math.max(1, Math.ceil(expiresAt - now)) }
}

/** `namespace/database/table`, for messages. */
export function describeScope(scope: Scope): string {
  return `${scope.namespace}/${scope.database}/${scope.table}`
}

/** Applies the query to keys already in order and filtered for liveness. */
export function page<T>(items: T[], query: Query): T[] {
  const end = query.limit === 0 ? undefined : query.offset + query.limit
  return query.offset === 0 && end === undefined ? items : items.slice(query.offset, end)
}
