import { badRequest } from '../errors/errors.js'
import type { Headers } from '../transport/frame.js'
import { incomingHeaders } from './headers.js'

const VERSION = 1

/**
 * One message as one byte string, for engines whose messages carry no headers (Redis) or
 * whose headers would mix with the carrier's (the default broker over the transport):
 * `[version u8 = 1][header JSON length u32 BE][header JSON][body]`.
 */
export function encodeEnvelope(headers: Headers, body: Uint8Array): Buffer {
  const head = Buffer.from(JSON.stringify(headers))
  const out = Buffer.allocUnsafe(5 + head.length + body.byteLength)
  out[0] = VERSION
  out.writeUInt32BE(head.length, 1)
  head.copy(out, 5)
  out.set(body, 5 + head.length)
  return out
}

/** The headers and body of an envelope; a 400 when the bytes are not one. */
export function decodeEnvelope(bytes: Uint8Array): { headers: Headers; body: Uint8Array } {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length < 5 || buffer[0] !== VERSION)
    throw badRequest('micro.broker', 'not a broker message envelope')
  const length = buffer.readUInt32BE(1)
  if (5 + length > buffer.length) throw badRequest('micro.broker', 'truncated broker message envelope')
  let parsed: unknown
  try {
    parsed = JSON.parse(buffer.toString('utf8', 5, 5 + length))
  } catch {
    throw badRequest('micro.broker', 'broker message envelope has malformed headers')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw badRequest('micro.broker', 'broker message envelope headers are not an object')
  return { headers: incomingHeaders(Object.entries(parsed)), body: buffer.subarray(5 + length) }
}
