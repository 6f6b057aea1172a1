import { badRequest } from '../errors/errors.js'
import type { Headers } from '../transport/frame.js'
import { ID_HEADER } from './broker.js'
import { trustedHeaders } from './headers.js'

/**
 * Several messages of one topic as one byte string, so that what a process publishes in one
 * event-loop turn travels as one transport call (default broker) or one NATS message:
 *
 *     batch   = message*
 *     message = full | repeat
 *     full    = 0x00 [header JSON length u32 BE][header JSON][body length u32 BE][body]
 *     repeat  = 0x01 [id length u16 BE][id UTF-8][body length u32 BE][body]
 *
 * The header JSON is an object of lower-case keys and string values. A `repeat` message has
 * the headers of the message before it with another `micro-id`: messages published in a row
 * usually differ only there, and encoding the same headers again per message was a third of
 * a publisher's CPU time. The carrier marks the format (`BATCH_HEADER: 2`).
 */
export const BATCH_HEADER = 'micro-batch'
export const BATCH_VERSION = '2'

const FULL = 0
const REPEAT = 1

const SLAB_SIZE = 64 * 1024
const EMPTY = Buffer.alloc(0)
let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_SIZE)
let used = 0

/**
 * The messages of one batch being gathered: per message its header JSON, or only its id
 * when its headers are those of the message before it except for the id. Nothing refers to
 * the caller's headers afterwards, so they may change once `add` returns.
 */
export class BatchParts {
  /** Per message: header JSON (full) or the id (repeat). */
  readonly heads: string[] = []
  readonly repeats: boolean[] = []
  readonly bodies: Uint8Array[] = []
  /** Bytes the batch will take at most, for deciding when to send it. */
  bytes = 0
  /** A copy of the headers of the last full message, and its number of keys. */
  #last: Headers | undefined
  #lastKeys = 0

  get count(): number {
    return this.bodies.length
  }

  add(headers: Headers, body: Uint8Array): void {
    const last = this.#last
    let keys = 0
    let same = last !== undefined
    for (const key in headers) {
      keys++
      if (same && key !== ID_HEADER && last?.[key] !== headers[key]) same = false
    }
    const id = headers[ID_HEADER]
    if (same && keys === this.#lastKeys && id !== undefined && id.length <= 16_384) {
      this.heads.push(id)
      this.repeats.push(true)
      this.bytes += 9 + id.length * 3 + body.byteLength
    } else {
      const json = JSON.stringify(headers)
      this.heads.push(json)
      this.repeats.push(false)
      this.#last = { ...headers }
      this.#lastKeys = keys
      this.bytes += 9 + json.length * 3 + body.byteLength
    }
    this.bodies.push(body)
  }
}

/**
 * Encode gathered messages. Batches are cut from a shared slab and never written again once
 * returned, since a socket or a NATS client may still hold them.
 */
export function encodeBatch(parts: BatchParts): Buffer {
  const bound = parts.bytes
  if (SLAB_SIZE - used < bound) {
    if (bound > SLAB_SIZE / 4) return write(Buffer.allocUnsafe(bound), 0, parts)
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE)
    used = 0
  }
  const start = used
  used = write(slab, start, parts).length + start
  return slab.subarray(start, used)
}

function write(target: Buffer, start: number, parts: BatchParts): Buffer {
  const { heads, repeats, bodies } = parts
  let at = start
  for (let i = 0; i < heads.length; i++) {
    const text = heads[i] as string
    const body = bodies[i] as Uint8Array
    if (repeats[i]) {
      target[at] = REPEAT
      const length = target.write(text, at + 3, 'utf8')
      target.writeUInt16BE(length, at + 1)
      at += 3 + length
    } else {
      target[at] = FULL
      const length = target.write(text, at + 5, 'utf8')
      target.writeUInt32BE(length, at + 1)
      at += 5 + length
    }
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
  let last: Headers | undefined
  const end = buffer.length
  while (at < end) {
    const kind = buffer[at]
    let headers: Headers
    let headerEnd: number
    if (kind === FULL) {
      if (at + 5 > end) throw malformed('truncated header length')
      headerEnd = at + 5 + buffer.readUInt32BE(at + 1)
      if (headerEnd > end) throw malformed('truncated headers')
      let parsed: unknown
      try {
        parsed = JSON.parse(buffer.toString('utf8', at + 5, headerEnd))
      } catch {
        throw malformed('malformed headers')
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw malformed('headers are not an object')
      headers = trustedHeaders(parsed as Record<string, unknown>)
      last = headers
    } else if (kind === REPEAT) {
      if (last === undefined) throw malformed('a repeat with no message before it')
      if (at + 3 > end) throw malformed('truncated id length')
      headerEnd = at + 3 + buffer.readUInt16BE(at + 1)
      if (headerEnd > end) throw malformed('truncated id')
      headers = { ...last }
      headers[ID_HEADER] = buffer.toString('utf8', at + 3, headerEnd)
    } else {
      throw malformed(`unknown message kind ${kind}`)
    }
    if (headerEnd + 4 > end) throw malformed('truncated body length')
    const bodyEnd = headerEnd + 4 + buffer.readUInt32BE(headerEnd)
    if (bodyEnd > end) throw malformed('truncated body')
    out.push(make(headers, buffer.subarray(headerEnd + 4, bodyEnd)))
    at = bodyEnd
  }
  return out
}

function malformed(what: string) {
  return badRequest('micro.broker', `not a broker message batch: ${what}`)
}
