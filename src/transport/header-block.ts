import { type Headers, KNOWN_HEADER_INDEX, KNOWN_HEADERS } from './frame.js'

// Writing the header block of a micro frame (layout in frame.ts), shared by the TCP writer
// and the NATS transport's outbox.

const MAX_KEY_BYTES = 127
const MAX_VALUE_BYTES = 0xffff
/** Bytes a header entry can take beyond its key and value: the key byte and the u16 length. */
const ENTRY_OVERHEAD = 3

export const ENDPOINT_INDEX = KNOWN_HEADER_INDEX.get('micro-endpoint') as number
export const TIMEOUT_INDEX = KNOWN_HEADER_INDEX.get('timeout') as number

/** An upper bound on the bytes `headers` take in a header block (UTF-8 is at most 3 bytes per UTF-16 unit). */
export function headersBound(headers: Headers | undefined): number {
  let bound = 0
  if (headers === undefined) return bound
  for (const key in headers) {
    const known = KNOWN_HEADER_INDEX.has(key)
    bound += ENTRY_OVERHEAD + (known ? 0 : key.length * 3) + (headers[key] as string).length * 3
  }
  return bound
}

/** An upper bound on one header entry named by its key. */
export function entryBound(key: string, value: string): number {
  return ENTRY_OVERHEAD + (KNOWN_HEADER_INDEX.has(key) ? 0 : key.length * 3) + value.length * 3
}

/** Write a well-known header (one byte for its name); returns the offset after it. */
export function writeKnown(chunk: Buffer, at: number, index: number, value: string): number {
  chunk[at] = 0x80 | index
  const valueLength = chunk.write(value, at + 3, 'utf8')
  if (valueLength > MAX_VALUE_BYTES)
    throw new RangeError(`header ${KNOWN_HEADERS[index]} is over ${MAX_VALUE_BYTES} bytes`)
  chunk.writeUInt16BE(valueLength, at + 1)
  return at + 3 + valueLength
}

/** Write one header entry, by index when its name is well known; returns the offset after it. */
export function writeHeader(chunk: Buffer, at: number, key: string, value: string): number {
  const known = KNOWN_HEADER_INDEX.get(key)
  if (known !== undefined) return writeKnown(chunk, at, known, value)
  const keyLength = chunk.write(key, at + 1, 'utf8')
  if (keyLength === 0 || keyLength > MAX_KEY_BYTES) {
    throw new RangeError(`header name must be 1..${MAX_KEY_BYTES} bytes: ${key.slice(0, 40)}`)
  }
  chunk[at] = keyLength
  at += 1 + keyLength
  const valueLength = chunk.write(value, at + 2, 'utf8')
  if (valueLength > MAX_VALUE_BYTES) throw new RangeError(`header ${key} is over ${MAX_VALUE_BYTES} bytes`)
  chunk.writeUInt16BE(valueLength, at)
  return at + 2 + valueLength
}

/** Write a header map; returns the offset after it. */
export function writeHeaders(chunk: Buffer, at: number, headers: Headers): number {
  for (const key in headers) at = writeHeader(chunk, at, key, headers[key] as string)
  return at
}
