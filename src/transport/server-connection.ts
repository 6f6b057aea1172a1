import type { Socket } from 'node:net'
import { badRequest, MicroError, payloadTooLarge, serviceUnavailable } from '../errors/errors.js'
import { type Frame, FrameFlag, FrameType, type Headers, newHeaders } from './frame.js'
import { FrameParser, ProtocolError } from './frame-parser.js'
import { FrameWriter } from './frame-writer.js'
import { MicroStream, type StreamHost } from './micro-stream.js'
import type { Dispatcher, InboundCall } from './transport.js'

const EMPTY = Buffer.alloc(0)
/** Outbound bytes buffered before the connection stops reading new requests. */
const WRITE_HIGH_WATER = 1024 * 1024
const RESOLVED = Promise.resolve()

interface UnaryState {
  call: InboundCall
}

/**
 * The server end of one micro-protocol connection: decodes frames, hands calls to the
 * dispatcher, writes replies coalesced per event-loop turn, and applies backpressure by
 * pausing the socket while replies or stream inputs are backed up.
 */
export class ServerConnection implements StreamHost {
  readonly #socket: Socket
  readonly #dispatcher: Dispatcher
  readonly #parser: FrameParser
  readonly #writer: FrameWriter
  readonly #remote: string
  readonly #unary = new Map<number, UnaryState>()
  readonly #streams = new Map<number, MicroStream>()
  readonly #onIdle: () => void
  #draining = false
  #closed = false
  #pressuredStreams = 0
  #waitingDrain = false
  #drainWaiters: (() => void)[] = []

  constructor(
    socket: Socket,
    firstChunk: Buffer,
    dispatcher: Dispatcher,
    maxFrameSize: number,
    onIdle: () => void,
  ) {
    this.#socket = socket
    this.#dispatcher = dispatcher
    this.#onIdle = onIdle
    this.#remote = `${socket.remoteAddress}:${socket.remotePort}`
    this.#writer = new FrameWriter(socket)
    this.#parser = new FrameParser(maxFrameSize, {
      frame: (frame) => this.#onFrame(frame),
      oversize: (type, id, size) => this.#onOversize(type, id, size, maxFrameSize),
    })
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('drain', () => this.#onDrain())
    socket.on('close', () => this.#onClose())
    socket.on('error', () => {
      // 'close' follows and fails whatever is in flight
    })
    this.#onData(firstChunk)
  }

  /** Calls still running on this connection. */
  get inFlight(): number {
    return this.#unary.size + this.#streams.size
  }

  /** Tell the client to send nothing new; close once the last call finishes. */
  drain(): void {
    if (this.#draining || this.#closed) return
    this.#draining = true
    this.#writer.frame(FrameType.GoAway, 0, 0, undefined, Buffer.from('server is shutting down'))
    this.#closeIfIdle()
  }

  /** Close now, aborting whatever is in flight. */
  destroy(): void {
    this.#writer.flush()
    this.#socket.destroy()
  }

  frame(
    type: FrameType,
    flags: number,
    id: number,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    this.#writer.frame(type, flags, id, headers, body)
  }

  whenWritable(): Promise<void> {
    if (this.#writer.pendingBytes < WRITE_HIGH_WATER || this.#writer.flush()) return RESOLVED
    return new Promise((resolve) => this.#drainWaiters.push(resolve))
  }

  inboundPressure(full: boolean): void {
    this.#pressuredStreams += full ? 1 : -1
    this.#updateReading()
  }

  release(id: number): void {
    this.#streams.delete(id)
    this.#closeIfIdle()
  }

  #onData(chunk: Buffer): void {
    try {
      this.#parser.push(chunk)
    } catch (error) {
      this.#protocolError(error)
      return
    }
    if (this.#writer.pendingBytes >= WRITE_HIGH_WATER && !this.#writer.flush()) {
      this.#waitingDrain = true
      this.#updateReading()
    }
  }

  #onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Request:
        this.#onRequest(frame)
        return
      case FrameType.Data: {
        const stream = this.#streams.get(frame.id)
        stream?.receive(frame.body, (frame.flags & FrameFlag.End) !== 0)
        return
      }
      case FrameType.End:
        this.#streams.get(frame.id)?.receiveEnd()
        return
      case FrameType.Cancel:
        this.#onCancel(frame.id)
        return
      case FrameType.Ping:
        this.#writer.frame(FrameType.Pong, 0, frame.id, undefined, frame.body)
        return
      case FrameType.Pong:
      case FrameType.GoAway:
        return
      case FrameType.Error:
        throw new ProtocolError('a client may not send Error frames')
    }
  }

  #onRequest(frame: Frame): void {
    const id = frame.id
    if (this.#unary.has(id) || this.#streams.has(id)) {
      this.#sendError(id, badRequest('micro.server', `call id ${id} is already in use on this connection`))
      return
    }
    const headers = frame.headers ?? newHeaders()
    const endpoint = headers['micro-endpoint']
    if (!endpoint) {
      this.#sendError(id, badRequest('micro.server', 'request has no micro-endpoint header'))
      return
    }
    if (this.#draining) {
      this.#sendError(id, serviceUnavailable('micro.server', 'server is shutting down'))
      return
    }
    const timeoutHeader = headers.timeout
    const timeout = timeoutHeader === undefined ? undefined : Number(timeoutHeader)
    const isStream = (frame.flags & FrameFlag.Stream) !== 0
    const call: InboundCall = {
      endpoint,
      headers,
      body: isStream ? EMPTY : frame.body,
      timeout: timeout !== undefined && Number.isFinite(timeout) && timeout >= 0 ? timeout : undefined,
      remote: this.#remote,
      protocol: 'micro',
      onCancel: undefined,
    }
    if (isStream) {
      const stream = new MicroStream(this, id, headers, true)
      this.#streams.set(id, stream)
      if ((frame.flags & FrameFlag.Message) !== 0)
        stream.receive(frame.body, (frame.flags & FrameFlag.End) !== 0)
      else if ((frame.flags & FrameFlag.End) !== 0) stream.receiveEnd()
      this.#dispatcher.stream(call, stream)
      return
    }
    const state: UnaryState = { call }
    this.#unary.set(id, state)
    this.#dispatcher.unary(call).then(
      (reply) => {
        if (this.#unary.get(id) !== state) return
        this.#unary.delete(id)
        this.#writer.frame(FrameType.Data, FrameFlag.End, id, reply.headers, reply.body)
        this.#closeIfIdle()
      },
      (error: unknown) => {
        if (this.#unary.get(id) !== state) return
        this.#unary.delete(id)
        this.#sendError(id, MicroError.from(error, 'micro.server'))
        this.#closeIfIdle()
      },
    )
  }

  #onCancel(id: number): void {
    const reason = new MicroError('micro.server', 'canceled by the caller', 499)
    const state = this.#unary.get(id)
    if (state) {
      this.#unary.delete(id)
      state.call.onCancel?.(reason)
      this.#closeIfIdle()
      return
    }
    this.#streams.get(id)?.receiveFailure(reason)
  }

  #onOversize(type: FrameType, id: number, size: number, max: number): void {
    const error = payloadTooLarge('micro.server', `frame of ${size} bytes is over the ${max}-byte limit`)
    if (type === FrameType.Request) {
      this.#sendError(id, error)
      return
    }
    const stream = this.#streams.get(id)
    if (stream) stream.fail(error)
  }

  #sendError(id: number, error: MicroError): void {
    this.#writer.frame(FrameType.Error, FrameFlag.End, id, undefined, Buffer.from(JSON.stringify(error)))
  }

  #protocolError(error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error)
    const reason = badRequest('micro.server', `protocol error: ${detail}`)
    this.#writer.frame(FrameType.GoAway, 0, 0, undefined, Buffer.from(JSON.stringify(reason)))
    this.#writer.flush()
    this.#writer.close()
    this.#socket.end()
    this.#socket.destroySoon()
    this.#failAll(reason)
  }

  #onDrain(): void {
    this.#waitingDrain = false
    this.#updateReading()
    const waiters = this.#drainWaiters
    this.#drainWaiters = []
    for (const resolve of waiters) resolve()
  }

  #updateReading(): void {
    if (this.#closed) return
    if (this.#waitingDrain || this.#pressuredStreams > 0) this.#socket.pause()
    else this.#socket.resume()
  }

  #closeIfIdle(): void {
    if (this.#draining && !this.#closed && this.inFlight === 0) {
      this.#writer.flush()
      this.#socket.end()
    }
  }

  #onClose(): void {
    if (this.#closed) return
    this.#closed = true
    this.#writer.close()
    this.#failAll(new MicroError('micro.server', 'connection to the caller was lost', 499))
    for (const resolve of this.#drainWaiters) resolve()
    this.#drainWaiters = []
    this.#onIdle()
  }

  #failAll(reason: MicroError): void {
    const unary = [...this.#unary.values()]
    this.#unary.clear()
    for (const state of unary) state.call.onCancel?.(reason)
    for (const stream of [...this.#streams.values()]) stream.receiveFailure(reason)
  }
}
