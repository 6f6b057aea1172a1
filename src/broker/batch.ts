import { badRequest } from '../errors/errors.js'
import type { Headers } from '../transport/frame.js'
import { trustedHeaders } from './headers.js'

/**
 * Several messages of one topic as one byte string, so that what a process publishes in one
 * event-loop turn travels as one transport call (default broker) or one NATS message:
 *
 *     batch   = message*
 *     message = [header JSON length u32 BE][header JSON][body length u32 BE][body]
 *
 * The header JSON is an object of lower-case keys and string values. The carrier marks the
 * format (`BATCH_HEADER: 1`), so a version 2 can come later.
 */
export const BATCH_HEADER = 'micro-batch'
export const BATCH_VERSION = '1'

/** Bytes a batch costs beyond its messages' header JSON and bodies. */
export const PER_MESSAGE_OVERHEAD = 8

const SLAB_SIZE = 64 * 1024
const EMPTY = Buffer.alloc(0)
let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE)
let used = 0

/**
 * Encode messages given as alternating header JSON and body: `[json, body, json, body, ...]`.
 * Batches are cut from a shared slab and never written again once returned, since a socket
 * or a NATS client may still hold them.
 */
export function encodeBatch(parts: readonly (string | Uint8Array)[]): Buffer {
  let bound = 0
  for (let i = 0; i < parts.length; i += 2) {
    bound += PER_MESSAGE_OVERHEAD + (parts[i] as string).length * 3 + (parts[i + 1] as Uint8Array).byteLength
  }
  if (SLAB_SIZE - used < bound) {
    if (bound > SLAB_SIZE / 4) return write(Buffer.allocUnsafe(bound), 0, parts)
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE)
    used = 0
  }
  const start = used
  used = write(slab, start, parts).length + start
  return slab.subarray(start, used)
}

function write(target: Buffer, start: number, parts: readonly (string | Uint8Array)[]): Buffer {
  let at = start
  for (let i = 0; i < parts.length; i += 2) {
    const json = parts[i] as string
    const body = parts[i + 1] as Uint8Array
    const length = target.write(json, at + 4, 'utf8')
    target.writeUInt32BE(length, at)
    at += 4 + length
    target.writeUInt32BE(body.byteLength, at)
    target.set(body, at + 4)
    at += 4 + body.byteLength
  }
  return target.subarray(start, at)
}

/**
 * Decode a batch into whatever `make` builds of each message, in order. `bytes` is copied
 * once, so the bodies (views into the copy) do not pin a larger receive buffer. A 400 when
 * the bytes are not a batch; nothing is returned then, so a bad batch is refused whole.
 */
export function decodeBatch<T>(bytes: Uint8Array, make: (headers: Headers, body: Buffer) => T): T[] {
  const buffer = bytes.byteLength === 0 ? EMPTY : Buffer.from(bytes)
  const out: T[] = []
  let at = 0
  const end = buffer.length
  while (at < end) {
    if (at + 4 > end) throw malformed('truncated header length')
    const headerEnd = at + 4 + buffer.readUInt32BE(at)
    if (headerEnd + 4 > end) throw malformed('truncated headers')
    const bodyEnd = headerEnd + 4 + buffer.readUInt32BE(headerEnd)
    if (bodyEnd > end) throw malformed('truncated body')
    let parsed: unknown
    try {
      parsed = JSON.parse(buffer.toString('utf8', at + 4, headerEnd))
    } catch {
      throw malformed('malformed headers')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw malformed('headers are not an object')
    out.push(make(trustedHeaders(parsed as Record<string, unknown>), buffer.subarray(headerEnd + 4, bodyEnd)))
    at = bodyEnd
  }
  return out
}

function malformed(what: string) {
  return badRequest('micro.broker', `not a broker message batch: ${what}`)
}
