/**
 * The few DER encodings an X.509 certificate needs (ITU-T X.690), written out here rather
 * than pulled from an ASN.1 library: certificates are built in one place (the CA) with one
 * fixed shape, node:crypto signs and parses them, and OpenSSL (node's TLS) checks every
 * byte of them on each handshake.
 *
 * @module
 */

/** Universal tags used below. */
const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const

/** A tag-length-value triple with DER's shortest length form. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const length = content.length
  let head: number[]
  if (length < 0x80) head = [tag, length]
  else {
    const bytes: number[] = []
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
    head = [tag, 0x80 | bytes.length, ...bytes]
  }
  return Buffer.concat([Buffer.from(head), content])
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(Tag.sequence, Buffer.concat(items))
}

export function set(...items: Uint8Array[]): Buffer {
  return tlv(Tag.set, Buffer.concat(items))
}

export function boolean(value: boolean): Buffer {
  return tlv(Tag.boolean, Buffer.from([value ? 0xff : 0x00]))
}

/** A non-negative INTEGER from its big-endian bytes (leading zeros dropped, a sign byte added when needed). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  const trimmed = Buffer.from(bytes.subarray(start))
  const content = (trimmed[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed
  return tlv(Tag.integer, content.length === 0 ? Buffer.from([0]) : content)
}

/** A small non-negative INTEGER. */
export function smallInteger(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`not a small non-negative integer: ${value}`)
  const bytes: number[] = []
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return unsignedInteger(Buffer.from(bytes.length === 0 ? [0] : bytes))
}

/** An OBJECT IDENTIFIER from its dotted form (`2.5.4.3`). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0))
    throw new RangeError(`not an object identifier: ${dotted}`)
  const [first, second, ...rest] = arcs as [number, number, ...number[]]
  const bytes: number[] = []
  for (const arc of [first * 40 + second, ...rest]) {
    const base128: number[] = [arc & 0x7f]
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
      base128.unshift(0x80 | (value & 0x7f))
    bytes.push(...base128)
  }
  return tlv(Tag.oid, Buffer.from(bytes))
}

export function utf8String(text: string): Buffer {
  return tlv(Tag.utf8String, Buffer.from(text, 'utf8'))
}

export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError('not a PrintableString')
  return tlv(Tag.printableString, Buffer.from(text, 'ascii'))
}

export function ia5String(text: string): Buffer {
  return tlv(Tag.ia5String, Buffer.from(text, 'ascii'))
}

/** A certificate time: UTCTime for 1950-2049, GeneralizedTime outside (RFC 5280 4.1.2.5). */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear()
  const two = (n: number) => String(n).padStart(2, '0')
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`
  if (year >= 1950 && year < 2050) return tlv(Tag.utcTime, Buffer.from(`${two(year % 100)}${rest}`, 'ascii'))
  return tlv(Tag.generalizedTime, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'ascii'))
}

/** A BIT STRING of whole bytes. */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(Tag.bitString, Buffer.concat([Buffer.from([0]), bytes]))
}

/** A BIT STRING of named bits (bit 0 is the most significant bit of the first byte), trailing zeros dropped. */
export function namedBits(bits: readonly number[]): Buffer {
  const highest = Math.max(...bits)
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1)
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] as number) | (0x80 >> (bit & 7))
  const unused = 7 - (highest & 7)
  return tlv(Tag.bitString, Buffer.concat([Buffer.from([unused]), bytes]))
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(Tag.octetString, bytes)
}

/** `[n] EXPLICIT`: a constructed context tag around one encoding. */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | n, inner)
}

/** `[n] IMPLICIT` of a primitive value: the context tag replaces the value's own. */
export function implicit(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content)
}

/** One encoded element: its tag, and where its content starts and it ends. */
export interface Element {
  tag: number
  contentStart: number
  end: number
}

/** The element at `offset` of `bytes`; a RangeError when it does not fit. */
export function readElement(bytes: Uint8Array, offset: number): Element {
  const tag = bytes[offset]
  let length = bytes[offset + 1]
  if (tag === undefined || length === undefined) throw new RangeError('truncated DER')
  let contentStart = offset + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4) throw new RangeError('unsupported DER length')
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[contentStart + i] ?? 0)
    contentStart += count
  }
  const end = contentStart + length
  if (end > bytes.length) throw new RangeError('truncated DER')
  return { tag, contentStart, end }
}
