import type { Socket } from 'node:net'
import {
  FRAME_HEADER_SIZE,
  type FrameType,
  type Headers,
  KNOWN_HEADER_INDEX,
  PROTOCOL_VERSION,
} from './frame.js'

const CHUNK_SIZE = 64 * 1024
/** Bodies larger than this are handed to the socket as they are instead of being copied. */
const COPY_LIMIT = 8 * 1024
const MAX_KEY_BYTES = 127
const MAX_VALUE_BYTES = 0xffff

/**
 * Encodes frames into a shared chunk and writes everything queued in one event-loop turn
 * with a single socket write, so 64 replies finishing together cost one syscall, not 64.
 * Flushed regions of the chunk are never rewritten: the socket may still hold them.
 */
export class FrameWriter {
  readonly #socket: Socket
  #chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK_SIZE)
  #start = 0
  #pos = 0
  readonly #queued: Buffer[] = []
  #queuedBytes = 0
  #scheduled = false
  #closed = false
  readonly #flushBound = () => this.flush()

  constructor(socket: Socket) {
    this.#socket = socket
  }

  /** Bytes waiting in this writer and in the socket: what backpressure is measured on. */
  get pendingBytes(): number {
    return this.#queuedBytes + (this.#pos - this.#start) + this.#socket.writableLength
  }

  /** Queue one frame; it is written at the end of this event-loop turn. */
  frame(
    type: FrameType,
    flags: number,
    id: number,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    if (this.#closed) return
    const bodyLength = body ? body.byteLength : 0
    const copyBody = bodyLength <= COPY_LIMIT
    let headerBound = 0
    if (headers) {
      for (const key in headers) {
        headerBound +=
          3 + (KNOWN_HEADER_INDEX.has(key) ? 0 : key.length * 3) + (headers[key] as string).length * 3
      }
    }
    this.#reserve(FRAME_HEADER_SIZE + headerBound + (copyBody ? bodyLength : 0))
    const chunk = this.#chunk
    const frameAt = this.#pos
    let at = frameAt + FRAME_HEADER_SIZE
    if (headers) at = writeHeaders(chunk, at, headers)
    const headerLength = at - frameAt - FRAME_HEADER_SIZE
    chunk[frameAt] = PROTOCOL_VERSION
    chunk[frameAt + 1] = type
    chunk[frameAt + 2] = flags
    chunk[frameAt + 3] = 0
    chunk.writeUInt32BE(id >>> 0, frameAt + 4)
    chunk.writeUInt32BE(headerLength, frameAt + 8)
    chunk.writeUInt32BE(bodyLength, frameAt + 12)
    if (body && bodyLength > 0) {
      if (copyBody) {
        chunk.set(body, at)
        at += bodyLength
        this.#pos = at
      } else {
        this.#pos = at
        this.#queueChunk()
        const view = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
        this.#queued.push(view)
        this.#queuedBytes += bodyLength
      }
    } else {
      this.#pos = at
    }
    if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flushBound)
    }
  }

  /** Write everything queued now. Returns false when the socket asks the writer to wait for 'drain'. */
  flush(): boolean {
    this.#scheduled = false
    if (this.#closed) return false
    this.#queueChunk()
    const queued = this.#queued
    if (queued.length === 0) return !this.#socket.writableNeedDrain
    let ok: boolean
    if (queued.length === 1) {
      ok = this.#socket.write(queued[0] as Buffer)
    } else {
      this.#socket.cork()
      ok = true
      for (const part of queued) ok = this.#socket.write(part)
      this.#socket.uncork()
    }
    queued.length = 0
    this.#queuedBytes = 0
    return ok
  }

  /** Stop writing; later frames are dropped. */
  close(): void {
    this.#closed = true
    this.#queued.length = 0
    this.#queuedBytes = 0
  }

  #queueChunk(): void {
    if (this.#pos > this.#start) {
      this.#queued.push(this.#chunk.subarray(this.#start, this.#pos))
      this.#queuedBytes += this.#pos - this.#start
      this.#start = this.#pos
    }
  }

  #reserve(bytes: number): void {
    if (this.#chunk.length - this.#pos >= bytes) return
    this.#queueChunk()
    this.#chunk = Buffer.allocUnsafeSlow(Math.max(CHUNK_SIZE, bytes))
    this.#start = 0
    this.#pos = 0
  }
}

function writeHeaders(chunk: Buffer, at: number, headers: Headers): number {
  for (const key in headers) {
    const value = headers[key] as string
    const known = KNOWN_HEADER_INDEX.get(key)
    if (known !== undefined) {
      chunk[at++] = 0x80 | known
    } else {
      const keyLength = chunk.write(key, at + 1, 'utf8')
      if (keyLength === 0 || keyLength > MAX_KEY_BYTES) {
        throw new RangeError(`header name must be 1..${MAX_KEY_BYTES} bytes: ${key.slice(0, 40)}`)
      }
      chunk[at] = keyLength
      at += 1 + keyLength
    }
    const valueLength = chunk.write(value, at + 2, 'utf8')
    if (valueLength > MAX_VALUE_BYTES) throw new RangeError(`header ${key} is over ${MAX_VALUE_BYTES} bytes`)
    chunk.writeUInt16BE(valueLength, at)
    at += 2 + valueLength
  }
  return at
}
