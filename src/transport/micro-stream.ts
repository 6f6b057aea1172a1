import { canceled, MicroError } from '../errors/errors.js'
import { AsyncQueue } from '../util/async-queue.js'
import { FrameFlag, FrameType, type Headers } from './frame.js'
import type { StreamChannel } from './transport.js'

/** What a stream needs from the connection it lives on. */
export interface StreamHost {
  send(
    type: FrameType,
    flags: number,
    id: number,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void
  /** Resolves when the connection can take more outbound bytes. */
  whenWritable(): Promise<void>
  /** Pause or resume reading the socket because this stream's inbound buffer is full. */
  inboundPressure(full: boolean): void
  /** Bytes this stream started (positive) or stopped (negative) holding for its reader. */
  inboundBytes(delta: number): void
  /** The stream is over; forget its id. */
  release(id: number): void
}

/** Inbound messages buffered per stream before the connection stops reading. */
const INBOUND_HIGH_WATER = 256
/** What a buffered message costs beyond its bytes (the Buffer object, the queue slot). */
export const MESSAGE_OVERHEAD = 64
/** A message viewing less than half of a received chunk this big is copied before it is buffered. */
const PIN_LIMIT = 16 * 1024

/**
 * One bidirectional stream on a micro connection, used by both ends. The server ends a
 * stream (End or Error frame); the client may half-close (End) or cancel (Cancel frame).
 */
export class MicroStream implements StreamChannel {
  readonly id: number
  readonly headers: Headers
  readonly messages: AsyncQueue<Uint8Array>
  readonly #host: StreamHost
  readonly #isServer: boolean
  readonly #controller = new AbortController()
  #sentEnd = false
  #over = false
  #pressured = false
  /** Bytes of messages buffered for the reader, as told to the host. */
  #buffered = 0

  constructor(host: StreamHost, id: number, headers: Headers, isServer: boolean) {
    this.#host = host
    this.id = id
    this.headers = headers
    this.#isServer = isServer
    this.messages = new AsyncQueue<Uint8Array>({
      highWaterMark: INBOUND_HIGH_WATER,
      take: (body) => this.#taken(body),
      onPressure: (full) => this.#pressure(full),
      // The reader stopped early: on the client that is a cancel; on the server the
      // handler simply ignores the rest of the input.
      onReturn: () => {
        if (!this.#isServer) this.fail(canceled('micro.client', 'stream closed by the caller'))
      },
    })
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  send(body: Uint8Array): Promise<void> {
    if (this.#over) return Promise.reject(this.#closedError())
    if (this.#sentEnd) return Promise.reject(new MicroError('micro.stream', 'send after end', 400))
    this.#host.send(FrameType.Data, 0, this.id, undefined, body)
    return this.#host.whenWritable()
  }

  end(): void {
    if (this.#over || this.#sentEnd) return
    this.#sentEnd = true
    this.#host.send(FrameType.End, FrameFlag.End, this.id, undefined, undefined)
    if (this.#isServer) this.#finish(undefined)
  }

  fail(error: MicroError): void {
    if (this.#over) return
    if (this.#isServer) {
      this.#host.send(FrameType.Error, FrameFlag.End, this.id, undefined, Buffer.from(JSON.stringify(error)))
    } else {
      this.#host.send(FrameType.Cancel, FrameFlag.End, this.id, undefined, undefined)
    }
    this.#finish(error)
  }

  /** A Data frame from the peer. */
  receive(body: Buffer, end: boolean): void {
    if (this.#over) return
    const size = body.byteLength + MESSAGE_OVERHEAD
    this.#buffered += size
    this.#host.inboundBytes(size)
    // A small view into a big received chunk would keep the whole chunk alive while the
    // message waits for its reader: a peer could pin far more memory than it is charged for.
    const pinsChunk = body.buffer.byteLength > PIN_LIMIT && body.byteLength * 2 < body.buffer.byteLength
    this.messages.push(pinsChunk && !this.messages.waiting ? Buffer.from(body) : body)
    if (end) this.receiveEnd()
  }

  /** The peer half-closed (client) or completed the stream (server's End seen by the client). */
  receiveEnd(): void {
    if (this.#over) return
    this.messages.end()
    if (!this.#isServer) this.#finish(undefined)
  }

  /** The stream ended abnormally: server error, client cancel or connection lost. */
  receiveFailure(error: MicroError): void {
    if (this.#over) return
    this.#finish(error)
  }

  #finish(error: MicroError | undefined): void {
    this.#over = true
    if (error) {
      this.messages.fail(error)
      this.#controller.abort(error)
    } else {
      this.messages.end()
    }
    if (this.#pressured) this.#pressure(false)
    // Whatever is still buffered no longer holds up the connection: nothing more comes.
    if (this.#buffered > 0) {
      this.#host.inboundBytes(-this.#buffered)
      this.#buffered = 0
    }
    this.#host.release(this.id)
  }

  #taken(body: Uint8Array): Uint8Array {
    if (this.#buffered > 0) {
      const size = body.byteLength + MESSAGE_OVERHEAD
      this.#buffered -= size
      this.#host.inboundBytes(-size)
    }
    return body
  }

  #pressure(full: boolean): void {
    if (this.#pressured === full) return
    this.#pressured = full
    this.#host.inboundPressure(full)
  }

  #closedError(): MicroError {
    const reason = this.#controller.signal.reason
    return reason instanceof MicroError ? reason : new MicroError('micro.stream', 'stream is closed', 499)
  }
}
