import {
  FRAME_HEADER_SIZE,
  type FrameType,
  type Headers,
  KNOWN_HEADER_INDEX,
  KNOWN_HEADERS,
  MAX_FRAME_TYPE,
  PROTOCOL_VERSION,
} from './frame.js'

/** The peer broke the protocol; the connection cannot continue. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}

/** Receives decoded frames. `body` is a view into the received bytes. */
export interface FrameHandler {
  frame(type: FrameType, flags: number, id: number, headers: Headers | undefined, body: Buffer): void
  /** A frame over the size limit was announced; its bytes are skipped, not buffered. */
  oversize(type: FrameType, id: number, size: number): void
}

const EMPTY = Buffer.alloc(0)
/** The first buffer of a frame split across chunks; it doubles as more arrives. */
const INITIAL_PARTIAL = 64 * 1024

/** Where a FrameParser is in the byte stream. */
export const ParserState = { Idle: 0, Head: 1, Body: 2 } as const
export type ParserState = (typeof ParserState)[keyof typeof ParserState]

/** A frame split across chunks, being assembled. */
interface PartialFrame {
  type: FrameType
  flags: number
  id: number
  headerLength: number
  /** Header block plus body, as announced. */
  size: number
  data: Buffer
  filled: number
}

function grow(partial: PartialFrame, needed: number): Buffer {
  const data = Buffer.allocUnsafe(Math.min(partial.size, Math.max(needed, partial.data.length * 2)))
  partial.data.copy(data, 0, 0, partial.filled)
  return data
}

/**
 * Turns a byte stream into frames. Frames that arrive whole inside one chunk are sliced
 * out without copying; a frame split across chunks is assembled into one exact buffer.
 */
export class FrameParser {
  readonly #maxFrameSize: number
  readonly #handler: FrameHandler
  /** Bytes of an incomplete frame header. */
  #head: Buffer = EMPTY
  /** A frame being assembled: its header fields and the buffer being filled. */
  #partial: PartialFrame | undefined
  #skip = 0
  readonly #authorization = new RememberedHeader()

  constructor(maxFrameSize: number, handler: FrameHandler) {
    this.#maxFrameSize = maxFrameSize
    this.#handler = handler
  }

  /** Where the parser is: between frames, inside a frame header, or inside a frame's rest. */
  get state(): ParserState {
    if (this.#partial !== undefined || this.#skip > 0) return ParserState.Body
    return this.#head.length > 0 ? ParserState.Head : ParserState.Idle
  }

  /** Feed received bytes; throws ProtocolError on malformed input. */
  push(chunk: Buffer): void {
    let offset = 0
    const length = chunk.length
    while (offset < length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, length - offset)
        this.#skip -= n
        offset += n
        continue
      }
      const partial = this.#partial
      if (partial) {
        const n = Math.min(partial.size - partial.filled, length - offset)
        if (partial.filled + n > partial.data.length) partial.data = grow(partial, partial.filled + n)
        chunk.copy(partial.data, partial.filled, offset, offset + n)
        partial.filled += n
        offset += n
        if (partial.filled === partial.size) {
          this.#partial = undefined
          this.#emit(
            partial.type,
            partial.flags,
            partial.id,
            partial.data,
            0,
            partial.headerLength,
            partial.size,
          )
        }
        continue
      }
      let header: Buffer
      let headerAt: number
      if (this.#head.length > 0 || length - offset < FRAME_HEADER_SIZE) {
        const n = Math.min(FRAME_HEADER_SIZE - this.#head.length, length - offset)
        this.#head = Buffer.concat([this.#head, chunk.subarray(offset, offset + n)])
        offset += n
        if (this.#head.length < FRAME_HEADER_SIZE) return
        header = this.#head
        headerAt = 0
        this.#head = EMPTY
      } else {
        header = chunk
        headerAt = offset
        offset += FRAME_HEADER_SIZE
      }
      const version = header[headerAt] as number
      const type = header[headerAt + 1] as FrameType
      const flags = header[headerAt + 2] as number
      if (version !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported protocol version ${version}`)
      if (type < 1 || type > MAX_FRAME_TYPE) throw new ProtocolError(`unknown frame type ${type}`)
      if (header[headerAt + 3] !== 0) throw new ProtocolError('reserved frame byte is not zero')
      const id = header.readUInt32BE(headerAt + 4)
      const headerLength = header.readUInt32BE(headerAt + 8)
      const size = headerLength + header.readUInt32BE(headerAt + 12)
      if (size > this.#maxFrameSize) {
        this.#skip = size
        this.#handler.oversize(type, id, size)
        continue
      }
      if (length - offset >= size) {
        this.#emit(type, flags, id, chunk, offset, headerLength, offset + size)
        offset += size
      } else {
        // Memory follows the bytes that arrived, not the size announced: a peer announcing
        // big frames and never sending them costs little.
        const data = Buffer.allocUnsafe(Math.min(size, INITIAL_PARTIAL))
        this.#partial = { type, flags, id, headerLength, size, data, filled: 0 }
      }
    }
  }

  #emit(
    type: FrameType,
    flags: number,
    id: number,
    buf: Buffer,
    start: number,
    headerLength: number,
    end: number,
  ) {
    const headers =
      headerLength > 0 ? decodeHeaders(buf, start, start + headerLength, this.#authorization) : undefined
    this.#handler.frame(type, flags, id, headers, buf.subarray(start + headerLength, end))
  }
}

/** Index of `authorization`, the known header a connection remembers (see RememberedHeader). */
const AUTHORIZATION = KNOWN_HEADER_INDEX.get('authorization') as number
const REMEMBERED_MIN_BYTES = 32

/**
 * The last `authorization` value on one connection, with its bytes. A caller sends the same
 * token on every call: when the bytes match, the same string is handed on, so it is not
 * decoded again and keeps the hash V8 cached on it. A token cache keyed by it then looks it
 * up without hashing 400 characters a call (measured: 9% of a server's time with auth on,
 * before). Only this header: `traceparent` is as long but new on every call.
 */
export class RememberedHeader {
  #bytes: Buffer | undefined
  #value = ''

  /** The value in `buf[start, end)`. */
  value(buf: Buffer, start: number, end: number): string {
    const length = end - start
    const bytes = this.#bytes
    if (bytes !== undefined && bytes.length === length && buf.compare(bytes, 0, length, start, end) === 0) {
      return this.#value
    }
    this.#value = buf.toString('utf8', start, end)
    this.#bytes = Buffer.from(buf.subarray(start, end))
    return this.#value
  }
}

/** Decode a header block; throws ProtocolError when it is malformed. `__proto__` keys are dropped. */
export function decodeHeaders(
  buf: Buffer,
  start: number,
  end: number,
  authorization?: RememberedHeader,
): Headers {
  const headers: Headers = {}
  let at = start
  while (at < end) {
    const k = buf[at++] as number
    let key: string
    let known = 0
    if (k & 0x80) {
      known = k & 0x7f
      const name = KNOWN_HEADERS[known]
      if (!name) throw new ProtocolError(`unknown header index ${known}`)
      key = name
    } else {
      if (k === 0 || at + k > end) throw new ProtocolError('malformed header key')
      key = buf.toString('utf8', at, at + k).toLowerCase()
      at += k
    }
    if (at + 2 > end) throw new ProtocolError('malformed header value')
    const valueLength = buf.readUInt16BE(at)
    at += 2
    if (at + valueLength > end) throw new ProtocolError('malformed header value')
    if (authorization !== undefined && known === AUTHORIZATION && valueLength >= REMEMBERED_MIN_BYTES) {
      headers[key] = authorization.value(buf, at, at + valueLength)
    } else if (key !== '__proto__') {
      headers[key] = buf.toString('utf8', at, at + valueLength)
    }
    at += valueLength
  }
  return headers
}
