import { connect, type Socket } from 'node:net'
import { canceled, MicroError, timeout as timeoutError } from '../errors/errors.js'
import { turnClock } from '../util/clock.js'
import { DeadlineList, type Tracked } from '../util/deadline-list.js'
import { parseAddress } from './address.js'
import { CallSlots } from './call-slots.js'
import { FrameFlag, FrameType, type Headers } from './frame.js'
import { FrameParser, ProtocolError } from './frame-parser.js'
import { FrameWriter } from './frame-writer.js'
import { MicroStream, type StreamHost } from './micro-stream.js'
import { StreamDeadline } from './stream-deadline.js'
import { dialTls, type SecureDial } from './tls/client.js'
import type { OutboundCall, OutboundStream, Reply } from './transport.js'
import { lostError, unsentError } from './transport-errors.js'

const MAX_ID = 0xffffffff

function noop(): void {}

/** Deadlines of every outbound call and stream in this process. */
const outbound = new DeadlineList()

export interface ClientConnectionOptions {
  maxFrameSize: number
  dialTimeout: number
  /** Ping the server after this long without hearing from it, ms. */
  keepAlive: number
  /** Give up on a server that does not answer a ping within this, ms. */
  keepAliveTimeout: number
  /** Dial TLS and accept only a server proving this identity (undefined: plain TCP). */
  secure?: SecureDial
}

/**
 * The call whose promise is being made: one shared executor hands it the resolving
 * functions (a closure per call was ~150 bytes of garbage). The executor runs synchronously,
 * so no other call sees it.
 */
let capturing: PendingUnary | undefined

function capture(resolve: (reply: Reply) => void, reject: (error: MicroError) => void): void {
  const pending = capturing as PendingUnary
  pending.resolve = resolve
  pending.reject = reject
  capturing = undefined
}

/** A unary call waiting for its reply; a node of the outbound deadline list. */
class PendingUnary implements Tracked {
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  expiresAt = 0
  onAbort: (() => void) | undefined = undefined
  resolve: (reply: Reply) => void = noop
  reject: (error: MicroError) => void = noop

  constructor(
    readonly connection: ClientConnection,
    readonly id: number,
    readonly endpoint: string,
    readonly timeout: number | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** The promise of the reply, settled through `resolve`/`reject`. */
  promise(): Promise<Reply> {
    capturing = this
    return new Promise<Reply>(capture)
  }

  expire(): void {
    this.connection.cancel(
      this.id,
      timeoutError('micro.client', `call to ${this.endpoint} timed out after ${this.timeout} ms`),
    )
  }
}

/**
 * The client end of one multiplexed micro-protocol connection. Many calls and streams
 * share it; each has its own id. Deadlines and aborts cancel the call on the server.
 */
export class ClientConnection implements StreamHost {
  readonly address: string
  readonly #socket: Socket
  readonly #writer: FrameWriter
  readonly #parser: FrameParser
  readonly #unary = new CallSlots<PendingUnary>()
  readonly #streams = new Map<number, MicroStream>()
  /** What to undo when a stream ends: its deadline and its abort listener. */
  readonly #streamCleanup = new Map<number, () => void>()
  readonly #options: ClientConnectionOptions
  readonly #onGone: (connection: ClientConnection) => void
  readonly connected: Promise<void>
  #nextId = 1
  #isConnected = false
  #goingAway = false
  #closed = false
  #closeReason: MicroError | undefined
  #lastHeard = Date.now()
  #lastUsed = Date.now()
  #pingSent = 0
  #keepAliveTimer: NodeJS.Timeout | undefined
  #pressuredStreams = 0

  constructor(
    address: string,
    options: ClientConnectionOptions,
    onGone: (connection: ClientConnection) => void,
  ) {
    this.address = address
    this.#options = options
    this.#onGone = onGone
    const { host, port } = parseAddress(address)
    const secure = options.secure
    const socket =
      secure === undefined
        ? connect({ host, port, noDelay: true, keepAlive: true })
        : dialTls(host, port, secure)
    this.#socket = socket
    this.#writer = new FrameWriter(socket)
    this.#parser = new FrameParser(options.maxFrameSize, this)
    this.connected = new Promise<void>((resolve, reject) => {
      const dialTimer = setTimeout(() => {
        socket.destroy(new Error(`dial timeout after ${options.dialTimeout} ms`))
      }, options.dialTimeout)
      socket.once(secure === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(dialTimer)
        this.#isConnected = true
        this.#startKeepAlive()
        resolve()
      })
      socket.once('close', () => {
        clearTimeout(dialTimer)
        if (!this.#isConnected) reject(this.#closeReason)
      })
    })
    // A failed dial is reported through the calls waiting on `connected`.
    this.connected.catch(() => {})
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error: Error) => {
      this.#closeReason ??= this.#isConnected
        ? lostError(`connection to ${address} lost: ${error.message}`)
        : unsentError(`cannot connect to ${address}: ${error.message}`, error)
    })
    socket.on('close', () => this.#onClose())
  }

  /** Whether new calls may use this connection. */
  get usable(): boolean {
    return !this.#closed && !this.#goingAway
  }

  /** Calls and streams in flight. */
  get inFlight(): number {
    return this.#unary.size + this.#streams.size
  }

  /** When the connection last carried a call (for idle pruning). */
  get lastUsed(): number {
    return this.#lastUsed
  }

  /** One unary call. The transport enforces `timeout` and `signal`. */
  call(call: OutboundCall): Promise<Reply> {
    if (!this.usable) return Promise.reject(this.#unusableError())
    const signal = call.signal
    if (signal?.aborted) return Promise.reject(canceled('micro.client', 'call canceled before it was sent'))
    const id = this.#allocateId()
    const pending = new PendingUnary(this, id, call.endpoint, call.timeout, signal)
    const promise = pending.promise()
    this.#unary.add(pending)
    outbound.add(pending)
    if (signal) {
      pending.onAbort = () =>
        this.cancel(id, canceled('micro.client', `call to ${call.endpoint} was canceled`))
      signal.addEventListener('abort', pending.onAbort, { once: true })
    }
    try {
      this.#writer.request(
        FrameFlag.Message | FrameFlag.End,
        id,
        call.endpoint,
        call.timeout,
        call.headers,
        call.body,
      )
    } catch (error) {
      // A header the frame cannot carry: the call was never sent.
      this.#settle(pending)
      pending.reject(error as MicroError)
    }
    return promise
  }

  /** Open a stream. Messages can be sent at once; they follow the Request frame. */
  stream(call: OutboundStream): MicroStream {
    if (!this.usable) throw this.#unusableError()
    const id = this.#allocateId()
    const stream = new MicroStream(this, id, {}, false)
    this.#streams.set(id, stream)
    this.#writer.request(FrameFlag.Stream, id, call.endpoint, call.timeout, call.headers, undefined)
    const deadline =
      call.timeout === undefined ? undefined : new StreamDeadline(stream, call.endpoint, call.timeout)
    if (deadline) outbound.add(deadline)
    const signal = call.signal
    const onAbort = () => stream.fail(canceled('micro.client', `stream ${call.endpoint} was canceled`))
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#streamCleanup.set(id, () => {
      if (deadline) outbound.remove(deadline)
      signal?.removeEventListener('abort', onAbort)
    })
    if (signal?.aborted) onAbort()
    return stream
  }

  /** Abandon a unary call: tell the server, fail the caller with `error`. */
  cancel(id: number, error: MicroError): void {
    const pending = this.#unary.get(id)
    if (!pending) return
    this.#settle(pending)
    this.#writer.frame(FrameType.Cancel, FrameFlag.End, id, undefined, undefined)
    pending.reject(error)
  }

  /** Parser callback: one frame from the server. */
  frame(type: FrameType, flags: number, id: number, headers: Headers | undefined, body: Buffer): void {
    if (type === FrameType.Data) {
      const pending = this.#unary.get(id)
      if (pending !== undefined) {
        this.#settle(pending)
        pending.resolve({ body, headers })
      } else {
        this.#streams.get(id)?.receive(body, (flags & FrameFlag.End) !== 0)
      }
      return
    }
    switch (type) {
      case FrameType.End:
        this.#streams.get(id)?.receiveEnd()
        return
      case FrameType.Error:
        this.#failCall(id, MicroError.parse(body.toString('utf8'), 'micro.server'))
        return
      case FrameType.GoAway:
        this.#goingAway = true
        this.#onGone(this)
        if (this.inFlight === 0) this.close()
        return
      case FrameType.Ping:
        this.#writer.frame(FrameType.Pong, 0, id, undefined, body)
        return
      case FrameType.Pong:
        return
      default:
        throw new ProtocolError(`a server may not send frame type ${type}`)
    }
  }

  /** Parser callback: a reply over the size limit. */
  oversize(_type: FrameType, id: number, size: number): void {
    this.#failCall(
      id,
      new MicroError(
        'micro.client',
        `reply frame of ${size} bytes is over the ${this.#options.maxFrameSize}-byte limit`,
        502,
      ),
    )
  }

  /** StreamHost: streams write through the connection's writer. */
  send(
    type: FrameType,
    flags: number,
    id: number,
    headers: Headers | undefined,
    body: Uint8Array | undefined,
  ): void {
    this.#lastUsed = turnClock()
    this.#writer.frame(type, flags, id, headers, body)
  }

  whenWritable(): Promise<void> {
    return this.#writer.whenWritable()
  }

  inboundPressure(full: boolean): void {
    this.#pressuredStreams += full ? 1 : -1
    if (this.#closed) return
    if (this.#pressuredStreams > 0) this.#socket.pause()
    else this.#socket.resume()
  }

  inboundBytes(_delta: number): void {
    // The client trusts the servers it calls: only the stream's message count is bounded.
  }

  release(id: number): void {
    this.#streams.delete(id)
    const cleanup = this.#streamCleanup.get(id)
    if (cleanup) {
      this.#streamCleanup.delete(id)
      cleanup()
    }
    if (this.#goingAway && this.inFlight === 0) setImmediate(() => this.close())
  }

  /** Take no new calls (new ones dial afresh: a renewed certificate); close once those in flight are done. */
  retire(): void {
    if (this.#closed || this.#goingAway) return
    this.#goingAway = true
    this.#onGone(this)
    if (this.inFlight === 0) this.close()
  }

  /** Close the connection; calls in flight fail with `reason`. */
  close(reason?: MicroError): void {
    this.#closeReason ??= reason ?? lostError(`connection to ${this.address} closed`)
    this.#writer.flush()
    this.#socket.destroy()
  }

  #allocateId(): number {
    this.#lastUsed = turnClock()
    this.#unary.reserve()
    let id = this.#nextId
    while (!this.#unary.isFree(id) || this.#streams.has(id)) id = id >= MAX_ID ? 1 : id + 1
    this.#nextId = id >= MAX_ID ? 1 : id + 1
    return id
  }

  #onData(chunk: Buffer): void {
    this.#lastHeard = turnClock()
    this.#pingSent = 0
    try {
      this.#parser.push(chunk)
    } catch (error) {
      const detail = error instanceof ProtocolError ? error.message : String(error)
      this.close(new MicroError('micro.client', `bad reply from ${this.address}: ${detail}`, 502))
    }
  }

  #failCall(id: number, error: MicroError): void {
    const pending = this.#unary.get(id)
    if (pending) {
      this.#settle(pending)
      pending.reject(error)
      return
    }
    this.#streams.get(id)?.receiveFailure(error)
  }

  #settle(pending: PendingUnary): void {
    this.#unary.delete(pending)
    outbound.remove(pending)
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort)
    if (this.#goingAway && this.inFlight === 0) setImmediate(() => this.close())
  }

  #unusableError(): MicroError {
    return unsentError(`connection to ${this.address} is closing`)
  }

  #startKeepAlive(): void {
    const { keepAlive, keepAliveTimeout } = this.#options
    this.#keepAliveTimer = setInterval(
      () => {
        const silence = Date.now() - this.#lastHeard
        if (this.#pingSent > 0 && Date.now() - this.#pingSent > keepAliveTimeout) {
          this.close(lostError(`${this.address} did not answer a ping within ${keepAliveTimeout} ms`))
        } else if (this.#pingSent === 0 && silence >= keepAlive) {
          this.#pingSent = Date.now()
          this.#writer.frame(FrameType.Ping, 0, 0, undefined, undefined)
        }
      },
      Math.max(100, Math.min(keepAlive, keepAliveTimeout) / 2),
    )
    this.#keepAliveTimer.unref()
  }

  #onClose(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#keepAliveTimer) clearInterval(this.#keepAliveTimer)
    this.#writer.close()
    const reason = this.#closeReason ?? lostError(`connection to ${this.address} closed by the server`)
    this.#closeReason = reason
    for (const pending of this.#unary.values()) {
      this.#settle(pending)
      pending.reject(reason)
    }
    for (const stream of [...this.#streams.values()]) stream.receiveFailure(reason)
    this.#onGone(this)
  }
}
