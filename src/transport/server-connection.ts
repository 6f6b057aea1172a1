import type { Socket } from 'node:net'
import {
  badRequest,
  MicroError,
  payloadTooLarge,
  serviceUnavailable,
  timeout as timeoutError,
} from '../errors/errors.js'
import { CallSlots } from './call-slots.js'
import { FrameFlag, FrameType, type Headers } from './frame.js'
import { FrameParser, ParserState, ProtocolError } from './frame-parser.js'
import { FrameWriter } from './frame-writer.js'
import { MESSAGE_OVERHEAD, MicroStream, type StreamHost } from './micro-stream.js'
import { type ConnectionBounds, Phase, Stall, type Swept } from './sweeper.js'
import type { Dispatcher, InboundCall } from './transport.js'

const EMPTY = Buffer.alloc(0)
const NO_HEADERS: Headers = Object.freeze({}) as Headers
/** How long a closing connection waits for its peer to hang up (and read a GoAway) before it is destroyed, ms. */
export const CLOSE_GRACE_MS = 500

/** A unary call that arrived on a micro connection; answering it writes the reply frame. */
class MicroCall implements InboundCall {
  onCancel: ((reason: MicroError) => void) | undefined = undefined
  readonly protocol = 'micro'

  constructor(
    readonly connection: ServerConnection,
    readonly id: number,
    readonly endpoint: string,
    readonly headers: Headers,
    readonly body: Uint8Array,
    readonly timeout: number | undefined,
    readonly remote: string,
  ) {}

  respond(body: Uint8Array, headers?: Headers): void {
    this.connection.reply(this, FrameType.Data, headers, body)
  }

  fail(error: MicroError): void {
    this.connection.reply(this, FrameType.Error, undefined, Buffer.from(JSON.stringify(error)))
  }
}

/**
 * The server end of one micro-protocol connection: decodes frames, hands calls to the
 * dispatcher, writes replies coalesced per event-loop turn, and applies backpressure by
 * pausing the socket while replies are backed up, a stream's reader is behind, or the
 * connection holds more inbound bytes than its budget (`bounds.maxBytes`). Its listener's
 * sweeper calls `sweep` to close it when a frame stalls or it sits idle.
 */
export class ServerConnection implements StreamHost, Swept {
  readonly #socket: Socket
  readonly #dispatcher: Dispatcher
  readonly #parser: FrameParser
  readonly #writer: FrameWriter
  readonly #remote: string
  readonly #unary = new CallSlots<MicroCall>()
  readonly #streams = new Map<number, MicroStream>()
  readonly #bounds: ConnectionBounds
  readonly #stall: Stall
  readonly #onClosed: () => void
  #draining = false
  #closed = false
  /** Input is no longer read (protocol error, timeout, closing). */
  #shut = false
  #pressuredStreams = 0
  #waitingDrain = false
  /** Inbound bytes held for calls in flight and unread stream messages. */
  #buffered = 0
  #overBudget = false
  /** Progress counters the sweeper compares between ticks. */
  #frames = 0
  #requests = 0

  constructor(
    socket: Socket,
    firstChunk: Buffer,
    dispatcher: Dispatcher,
    maxFrameSize: number,
    bounds: ConnectionBounds,
    stall: Stall,
    onClosed: () => void,
  ) {
    this.#socket = socket
    this.#dispatcher = dispatcher
    this.#bounds = bounds
    this.#stall = stall
    this.#onClosed = onClosed
    this.#remote = `${socket.remoteAddress}:${socket.remotePort}`
    this.#writer = new FrameWriter(socket)
    this.#parser = new FrameParser(maxFrameSize, this)
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

  /** Sweeper tick: close the connection if the peer has stalled a frame, not read, or gone idle. */
  sweep(): void {
    if (this.#closed || this.#shut) return
    const idle = this.inFlight === 0 && !this.#draining
    let phase: Phase = Phase.None
    if (this.#pressuredStreams > 0 || this.#overBudget) phase = Phase.Held
    else if (this.#waitingDrain) {
      // Replies the client is not reading: fine while it has calls or streams going (a slow
      // consumer), idle otherwise.
      if (idle) phase = Phase.Idle
    } else {
      const state = this.#parser.state
      if (state === ParserState.Head) phase = Phase.Head
      else if (state === ParserState.Body) phase = Phase.Body
      else if (idle) phase = Phase.Idle
    }
    // Idle counts calls only: a client's keep-alive pings do not keep a connection open.
    const mark = phase === Phase.Idle ? this.#requests : this.#frames
    const sweeps = this.#stall.observe(phase, mark)
    if (phase === Phase.Held && sweeps > 0) {
      // A paused socket does not see its peer hang up; writing to a gone peer fails and
      // closes it, which ends its calls and streams.
      this.#writer.frame(FrameType.Ping, 0, 0, undefined, undefined)
      return
    }
    if (!Stall.expired(phase, sweeps, this.#bounds)) return
    if (phase === Phase.Idle) this.#goAwayIdle()
    else this.#shutDown(timeoutError('micro.server', stallDetail(phase, this.#bounds)))
  }

  /** Close now, aborting whatever is in flight. */
  destroy(): void {
    this.#writer.flush()
    this.#socket.destroy()
  }

  /** Write the answer of a unary call, unless it was canceled or already answered. */
  reply(call: MicroCall, type: FrameType, headers: Headers | undefined, body: Uint8Array): void {
    if (!this.#unary.delete(call)) return
    this.#writer.frame(type, FrameFlag.End, call.id, headers, body)
    this.#release(call.body.byteLength + MESSAGE_OVERHEAD)
    if (this.#draining) this.#closeIfIdle()
  }

  frame(
    type: FrameType,
    flags: number,
    id: number,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    this.#frames++
    if (type === FrameType.Request) this.#onRequest(flags, id, headers, body as Buffer)
    else this.#onOther(type, flags, id, body as Buffer)
  }

  /** Parser callback for frames over the size limit. */
  oversize(type: FrameType, id: number, size: number): void {
    const error = payloadTooLarge('micro.server', `frame of ${size} bytes is over the size limit`)
    if (type === FrameType.Request) this.#sendError(id, error)
    else this.#streams.get(id)?.fail(error)
  }

  /** StreamHost: streams write through the connection's writer. */
  send(
    type: FrameType,
    flags: number,
    id: number,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    this.#writer.frame(type, flags, id, headers, body)
  }

  whenWritable(): Promise<void> {
    return this.#writer.whenWritable()
  }

  inboundPressure(full: boolean): void {
    this.#pressuredStreams += full ? 1 : -1
    this.#updateReading()
  }

  inboundBytes(delta: number): void {
    if (delta >= 0) this.#buffered += delta
    else this.#release(-delta)
  }

  release(id: number): void {
    this.#streams.delete(id)
    this.#closeIfIdle()
  }

  #onData(chunk: Buffer): void {
    if (this.#shut) return
    try {
      this.#parser.push(chunk)
    } catch (error) {
      this.#protocolError(error)
      return
    }
    if (this.#writer.backedUp) {
      this.#waitingDrain = true
      this.#updateReading()
    }
    if (this.#buffered > this.#bounds.maxBytes && !this.#overBudget) {
      this.#overBudget = true
      this.#updateReading()
    }
  }

  /** Calls or stream messages let go of `bytes`; read again once back under budget. */
  #release(bytes: number): void {
    this.#buffered -= bytes
    if (this.#overBudget && this.#buffered <= this.#bounds.maxBytes) {
      this.#overBudget = false
      this.#updateReading()
    }
  }

  #onOther(type: FrameType, flags: number, id: number, body: Buffer): void {
    switch (type) {
      case FrameType.Data:
        this.#streams.get(id)?.receive(body, (flags & FrameFlag.End) !== 0)
        return
      case FrameType.End:
        this.#streams.get(id)?.receiveEnd()
        return
      case FrameType.Cancel:
        this.#onCancel(id)
        return
      case FrameType.Ping:
        this.#writer.frame(FrameType.Pong, 0, id, undefined, body)
        return
      case FrameType.Pong:
      case FrameType.GoAway:
        return
      default:
        throw new ProtocolError(`a client may not send frame type ${type}`)
    }
  }

  #onRequest(flags: number, id: number, headers: Headers | undefined, body: Buffer): void {
    if (this.#unary.get(id) !== undefined || this.#streams.has(id)) {
      this.#sendError(id, badRequest('micro.server', `call id ${id} is already in use on this connection`))
      return
    }
    const endpoint = headers?.['micro-endpoint']
    if (!headers || !endpoint) {
      this.#sendError(id, badRequest('micro.server', 'request has no micro-endpoint header'))
      return
    }
    if (this.#draining) {
      this.#sendError(id, serviceUnavailable('micro.server', 'server is shutting down'))
      return
    }
    this.#requests++
    if (this.#unary.size + this.#streams.size >= this.#bounds.maxCalls) {
      this.#sendError(id, tooManyCalls(this.#bounds.maxCalls))
      return
    }
    const timeoutHeader = headers.timeout
    const timeout = timeoutHeader === undefined ? undefined : Number(timeoutHeader)
    const validTimeout =
      timeout !== undefined && timeout >= 0 && Number.isFinite(timeout) ? timeout : undefined
    if ((flags & FrameFlag.Stream) === 0) {
      const call = new MicroCall(this, id, endpoint, headers, body, validTimeout, this.#remote)
      this.#unary.add(call)
      this.#buffered += body.byteLength + MESSAGE_OVERHEAD
      this.#dispatcher.unary(call)
      return
    }
    const stream = new MicroStream(this, id, headers ?? NO_HEADERS, true)
    this.#streams.set(id, stream)
    if ((flags & FrameFlag.Message) !== 0) stream.receive(body, (flags & FrameFlag.End) !== 0)
    else if ((flags & FrameFlag.End) !== 0) stream.receiveEnd()
    this.#dispatcher.stream(
      { endpoint, headers, body: EMPTY, timeout: validTimeout, remote: this.#remote, protocol: 'micro' },
      stream,
    )
  }

  #onCancel(id: number): void {
    const reason = new MicroError('micro.server', 'canceled by the caller', 499)
    const call = this.#unary.get(id)
    if (call) {
      this.#unary.delete(call)
      this.#release(call.body.byteLength + MESSAGE_OVERHEAD)
      call.onCancel?.(reason)
      this.#closeIfIdle()
      return
    }
    this.#streams.get(id)?.receiveFailure(reason)
  }

  #sendError(id: number, error: MicroError): void {
    this.#writer.frame(FrameType.Error, FrameFlag.End, id, undefined, Buffer.from(JSON.stringify(error)))
  }

  #protocolError(error: unknown): void {
    const detail = error instanceof Error ? error.message : String(error)
    this.#shutDown(badRequest('micro.server', `protocol error: ${detail}`))
  }

  /** Stop reading, tell the client why (GoAway), cancel what is in flight, close. */
  #shutDown(reason: MicroError): void {
    if (this.#shut) return
    this.#writer.frame(FrameType.GoAway, 0, 0, undefined, Buffer.from(JSON.stringify(reason)))
    this.#closeSoon()
    this.#failAll(reason)
  }

  /**
   * Idle too long: GoAway first, so the client stops using the connection and hangs up;
   * a request already on its way meanwhile gets a 503, which clients retry elsewhere.
   */
  #goAwayIdle(): void {
    this.#draining = true
    this.#writer.frame(FrameType.GoAway, 0, 0, undefined, Buffer.from('idle connection closed'))
    setTimeout(() => this.#closeIfIdle(), CLOSE_GRACE_MS).unref()
  }

  #onDrain(): void {
    this.#waitingDrain = false
    this.#updateReading()
  }

  #updateReading(): void {
    if (this.#closed || this.#shut) return
    if (this.#waitingDrain || this.#pressuredStreams > 0 || this.#overBudget) this.#socket.pause()
    else this.#socket.resume()
  }

  #closeIfIdle(): void {
    if (this.#draining && !this.#closed && !this.#shut && this.inFlight === 0) this.#closeSoon()
  }

  /**
   * Send what is queued and hang up. A peer that does not hang up too (or read what is
   * left) is cut off after a grace period, so it cannot hold the socket open.
   */
  #closeSoon(): void {
    this.#shut = true
    this.#writer.flush()
    this.#writer.close()
    this.#socket.end()
    const socket = this.#socket
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
  }

  #onClose(): void {
    if (this.#closed) return
    this.#closed = true
    this.#writer.close()
    this.#failAll(new MicroError('micro.server', 'connection to the caller was lost', 499))
    this.#onClosed()
  }

  #failAll(reason: MicroError): void {
    const unary = this.#unary.values()
    this.#unary.clear()
    for (const call of unary) call.onCancel?.(reason)
    for (const stream of [...this.#streams.values()]) stream.receiveFailure(reason)
  }
}

function tooManyCalls(limit: number): MicroError {
  return serviceUnavailable('micro.server', `too many calls in flight on this connection (limit ${limit})`)
}

function stallDetail(phase: Phase, bounds: ConnectionBounds): string {
  const what = phase === Phase.Head ? 'frame header' : 'frame'
  const ms = phase === Phase.Head ? bounds.headerTimeout : bounds.requestTimeout
  return `${what} not completed within ${ms} ms`
}
