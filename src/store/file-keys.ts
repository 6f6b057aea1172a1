import type { Scope } from './scope.js'

// LMDB keys of the file store: `namespace 0x00 database 0x00 table 0x00 key`, all UTF-8.
// Names never contain NUL, and 0xFF never occurs in UTF-8, so `prefix + 0xFF` is above
// every key that starts with `prefix`, and a byte-wise range scan is code point order.

const HIGH = Buffer.from([0xff])
const NUL = 0

/** The key prefix of one table (ends with the NUL before the record key). */
export function tablePrefix(scope: Scope): Buffer {
  return Buffer.from(`${scope.namespace}\0${scope.database}\0${scope.table}\0`)
}

/** The key prefix of a namespace. */
export function namespacePrefix(namespace: string): Buffer {
  return Buffer.from(`${namespace}\0`)
}

/** `prefix` + 0xFF: an exclusive upper bound for keys starting with `prefix`. */
export function above(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, HIGH])
}

/** The full LMDB key of a record. */
export function recordKey(prefix: Buffer, key: string): Buffer {
  const keyBytes = Buffer.byteLength(key)
  const out = Buffer.allocUnsafe(prefix.length + keyBytes)
  prefix.copy(out, 0)
  out.write(key, prefix.length)
  return out
}

/** The record key after the table prefix. */
export function keyOf(full: Uint8Array, prefixLength: number): string {
  return Buffer.from(full.buffer, full.byteOffset + prefixLength, full.byteLength - prefixLength).toString(
    'utf8',
  )
}

/** The database and table of a full key, with the byte length of its table prefix. */
export function tableOf(full: Uint8Array): { database: string; table: string; prefixLength: number } {
  const buf = Buffer.from(full.buffer, full.byteOffset, full.byteLength)
  const a = buf.indexOf(NUL)
  const b = buf.indexOf(NUL, a + 1)
  const c = buf.indexOf(NUL, b + 1)
  return {
    database: buf.toString('utf8', a + 1, b),
    table: buf.toString('utf8', b + 1, c),
    prefixLength: c + 1,
  }
}
