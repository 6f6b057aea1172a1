import { invalid } from './errors.js'

// A stored value is one tag character then the payload, so bytes and JSON never get
// confused: 'j' + JSON text, or 'b' + the bytes as written. JSON stays a string all the way
// to the engine: ioredis writes a string argument in one piece, a Buffer in several.
const JSON_TAG = 0x6a
const BYTES_TAG = 0x62

/** A value as stored: 'j' + JSON text (a string), or 'b' + bytes (a Buffer). */
export type StoredValue = string | Buffer

/** A value as stored. Throws a 400 for what JSON cannot carry. */
export function encodeValue(value: unknown): StoredValue {
  if (value instanceof Uint8Array) {
    const out = Buffer.allocUnsafe(value.byteLength + 1)
    out[0] = BYTES_TAG
    out.set(value, 1)
    return out
  }
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    throw invalid(`the value cannot be stored as JSON: ${(error as Error).message}`)
  }
  if (text === undefined) throw invalid(`a ${typeof value} value cannot be stored: write JSON data or bytes`)
  return `j${text}`
}

/** A stored value as bytes (for engines that only take bytes). */
export function storedBytes(stored: StoredValue): Buffer {
  return typeof stored === 'string' ? Buffer.from(stored) : stored
}

/** The value back from its stored form (bytes come back as a Buffer of their own). */
export function decodeValue(data: Uint8Array | string): unknown {
  if (typeof data === 'string') {
    if (data.charCodeAt(0) === JSON_TAG) return JSON.parse(data.slice(1))
    return decodeValue(Buffer.from(data))
  }
  const tag = data[0]
  if (tag === BYTES_TAG) return Buffer.from(data.subarray(1))
  if (tag === JSON_TAG) {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset + 1, data.byteLength - 1).toString('utf8'))
  }
  throw new Error(`stored value has an unknown tag byte ${tag}`)
}

/** Metadata as JSON text ('' for none); a 400 when it is not a JSON object. */
export function encodeMetadata(metadata: Record<string, unknown> | undefined): string {
  if (metadata === undefined) return ''
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw invalid('metadata must be an object')
  let text: string
  try {
    text = JSON.stringify(metadata)
  } catch (error) {
    throw invalid(`metadata cannot be stored as JSON: ${(error as Error).message}`)
  }
  return text === '{}' ? '' : text
}

export function decodeMetadata(text: string): Record<string, unknown> {
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

// An entry, for engines that keep the whole record in one value (memory, file, redis,
// nats), in text as far as possible: `e<expiresAt>,<metadata bytes>,<metadata JSON><stored
// value>`, where expiresAt is ms since the epoch (0 = never), in decimal. A JSON value
// makes the whole entry a string; bytes make it a Buffer.

/** One record as one value. `stored` is what `encodeValue` returned. */
export function encodeEntry(stored: StoredValue, metadata: string, expiresAt: number): StoredValue {
  const head = `e${Math.ceil(expiresAt)},${metadata === '' ? 0 : Buffer.byteLength(metadata)},${metadata}`
  return typeof stored === 'string' ? head + stored : Buffer.concat([Buffer.from(head), stored])
}

/** When an entry expires (ms since the epoch, 0 = never), without decoding the rest. */
export function entryExpiresAt(entry: Uint8Array | string): number {
  return header(entry).expiresAt
}

/** An entry's parts. */
export function decodeEntry(entry: Uint8Array | string): {
  value: unknown
  metadata: Record<string, unknown>
  expiresAt: number
} {
  const { expiresAt, metaStart, metaBytes } = header(entry)
  if (typeof entry === 'string' && metaBytes === 0)
    return { expiresAt, metadata: {}, value: decodeValue(entry.slice(metaStart)) }
  const buf = asBuffer(entry)
  const at = metaStart + metaBytes
  // The common case, JSON: decode the text straight from the entry's bytes.
  if (buf[at] === JSON_TAG) {
    const metadata = metaBytes === 0 ? {} : decodeMetadata(buf.toString('utf8', metaStart, at))
    return { expiresAt, metadata, value: JSON.parse(buf.toString('utf8', at + 1)) }
  }
  return {
    expiresAt,
    metadata: decodeMetadata(buf.toString('utf8', metaStart, metaStart + metaBytes)),
    value: decodeValue(buf.subarray(metaStart + metaBytes)),
  }
}

/** Reads `e<digits>,<digits>,` (ASCII, so string and byte offsets agree). */
function header(entry: Uint8Array | string): { expiresAt: number; metaStart: number; metaBytes: number } {
  const at = typeof entry === 'string' ? (i: number) => entry.charCodeAt(i) : (i: number) => entry[i] ?? -1
  if (at(0) !== 0x65) throw new Error('stored entry is not in a known format')
  let i = 1
  let expiresAt = 0
  for (let c = at(i); c !== 0x2c; c = at(++i)) {
    if (c < 0x30 || c > 0x39) throw new Error('stored entry is not in a known format')
    expiresAt = expiresAt * 10 + (c - 0x30)
  }
  let metaBytes = 0
  for (let c = at(++i); c !== 0x2c; c = at(++i)) {
    if (c < 0x30 || c > 0x39) throw new Error('stored entry is not in a known format')
    metaBytes = metaBytes * 10 + (c - 0x30)
  }
  return { expiresAt, metaStart: i + 1, metaBytes }
}

function asBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data)
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}
