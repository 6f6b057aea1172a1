import type { Socket } from 'node:net'
import { FRAME_HEADER_SIZE, FrameType, type Headers, PROTOCOL_VERSION } from './frame.js'
import { ENDPOINT_INDEX, headersBound, TIMEOUT_INDEX, writeHeaders, writeKnown } from './header-block.js'

const CHUNK_SIZE = 64 * 1024
/** Outbound bytes buffered before senders are asked to wait (backpressure). */
const WRITE_HIGH_WATER = 1024 * 1024
const RESOLVED = Promise.resolve()
/**
 * Write early once this many frames are waiting. A batch of replies then leaves in a few
 * parts, so the peer starts on the first part while this side encodes the rest: the two
 * processes work in parallel instead of taking turns.
 */
const EARLY_FLUSH_FRAMES = 32
/** Bodies larger than this are handed to the socket as they are instead of being copied. */
const COPY_LIMIT = 8 * 1024

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
  #waitingFrames = 0
  #closed = false
  #drainWaiters: (() => void)[] = []
  readonly #flushBound = () => {
    this.#scheduled = false
    this.flush()
  }

  constructor(socket: Socket) {
    this.#socket = socket
    socket.on('drain', () => this.#releaseWaiters())
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
    this.#write(type, flags, id, undefined, undefined, headers, body)
  }

  /**
   * Queue a Request frame. The endpoint and timeout are written as headers here, so the
   * caller's header map is neither copied nor changed.
   */
  request(
    flags: number,
    id: number,
    endpoint: string,
    timeout: number | undefined,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    this.#write(FrameType.Request, flags, id, endpoint, timeout, headers, body)
  }

  #write(
    type: FrameType,
    flags: number,
    id: number,
    endpoint: string | undefined,
    timeout: number | undefined,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    if (this.#closed) return
    const bodyLength = body ? body.byteLength : 0
    const copyBody = bodyLength <= COPY_LIMIT
    const headerBound = (endpoint === undefined ? 0 : 3 + endpoint.length * 3 + 16) + headersBound(headers)
    this.#reserve(FRAME_HEADER_SIZE + headerBound + (copyBody ? bodyLength : 0))
    const chunk = this.#chunk
    const frameAt = this.#pos
    let at = frameAt + FRAME_HEADER_SIZE
    if (endpoint !== undefined) {
      at = writeKnown(chunk, at, ENDPOINT_INDEX, endpoint)
      if (timeout !== undefined)
        at = writeKnown(chunk, at, TIMEOUT_INDEX, String(Math.max(0, Math.ceil(timeout))))
    }
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
    if (++this.#waitingFrames >= EARLY_FLUSH_FRAMES) {
      this.flush()
    } else if (!this.#scheduled) {
      this.#scheduled = true
      setImmediate(this.#flushBound)
    }
  }

  /** Write everything queued now. Returns false when the socket asks the writer to wait for 'drain'. */
  flush(): boolean {
    this.#waitingFrames = 0
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

  /** Whether so much is waiting to be written that readers should stop taking new work. */
  get backedUp(): boolean {
    return this.pendingBytes >= WRITE_HIGH_WATER && !this.flush()
  }

  /** Resolves when more may be written: at once unless over the high-water mark, else on 'drain'. */
  whenWritable(): Promise<void> {
    if (this.#closed || this.pendingBytes < WRITE_HIGH_WATER || this.flush()) return RESOLVED
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  /** Stop writing; later frames are dropped and waiting senders are released. */
  close(): void {
    this.#closed = true
    this.#queued.length = 0
    this.#queuedBytes = 0
    this.#releaseWaiters()
  }

  #releaseWaiters(): void {
    const waiters = this.#drainWaiters
    if (waiters.length === 0) return
    this.#drainWaiters = []
    for (const resolve of waiters) resolve()
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
