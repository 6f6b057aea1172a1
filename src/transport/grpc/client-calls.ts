import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2'
import { canceled, type MicroError, newError, timeout as timeoutError } from '../../errors/errors.js'
import { AsyncQueue } from '../../util/async-queue.js'
import { DeadlineList, type Tracked } from '../../util/deadline-list.js'
import type { Headers } from '../frame.js'
import type { OutboundCall, OutboundStream, Reply, StreamChannel } from '../transport.js'
import { lostError, unsentError } from '../transport-errors.js'
import { frameMessage, type MessageError, MessageReader } from './messages.js'
import {
  errorFromStatus,
  formatGrpcTimeout,
  grpcContentType,
  isSendableMetadata,
  MICRO_ERROR_TRAILER,
  microContentType,
  pathOfEndpoint,
} from './protocol.js'
import type { GrpcSession } from './sessions.js'

/** Deadlines of every outbound gRPC call and stream in this process (one sweep, no timer per call). */
const outbound = new DeadlineList()

const NGHTTP2_REFUSED_STREAM = 7
const NGHTTP2_CANCEL = 8
const CLIENT_ID = 'micro.client'

/** Request headers of a call: path, content type, deadline and the metadata HTTP/2 can carry. */
export function requestHeaders(
  endpoint: string,
  headers: Headers,
  timeout: number | undefined,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': pathOfEndpoint(endpoint),
    'content-type': grpcContentType(headers['content-type']),
    te: 'trailers',
  }
  if (timeout !== undefined) out['grpc-timeout'] = formatGrpcTimeout(timeout)
  for (const key in headers) {
    if (key !== 'content-type' && isSendableMetadata(key)) out[key] = headers[key]
  }
  return out
}

/** Why a call that got no status ended: never sent (safe to retry) or lost after sending. */
function endedWithoutStatus(session: GrpcSession, stream: ClientHttp2Stream, endpoint: string): MicroError {
  if (!session.connected || stream.pending || stream.rstCode === NGHTTP2_REFUSED_STREAM) {
    return unsentError(`cannot reach ${session.address} for ${endpoint}`)
  }
  return lostError(`connection to ${session.address} lost during ${endpoint}`)
}

/** The MicroError for a response that is not a gRPC one, or undefined when it is. */
function badResponse(headers: IncomingHttpHeaders, address: string): MicroError | undefined {
  const status = Number(headers[':status'])
  if (status !== 200)
    return newError(CLIENT_ID, `${address} answered HTTP ${status}`, status >= 400 ? status : 502)
  if (microContentType(headers['content-type']) === undefined) {
    return newError(CLIENT_ID, `${address} answered ${headers['content-type']}, not gRPC`, 502)
  }
  return undefined
}

const replyHeadersByType = new Map<string, Headers>()

/** Reply headers saying which codec the body is in (shared per content type). */
function replyHeaders(grpcType: string | undefined): Headers | undefined {
  const type = microContentType(grpcType)
  if (type === undefined) return undefined
  let headers = replyHeadersByType.get(type)
  if (headers === undefined) {
    headers = Object.freeze({ 'content-type': type }) as Headers
    replyHeadersByType.set(type, headers)
  }
  return headers
}

/**
 * One unary gRPC call in flight: request headers and the message go out at once; the reply
 * is settled by the trailers (or a trailers-only error). A node of the outbound deadline
 * list; an abort or the deadline resets the stream (RST_STREAM CANCEL), which the server
 * sees as a cancel.
 */
export class PendingGrpcCall implements Tracked {
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  /** Tracked: the call's time in ms, and when it expires (the deadline list's). */
  readonly timeout: number | undefined
  expiresAt = Number.NaN
  readonly #session: GrpcSession
  readonly #stream: ClientHttp2Stream
  readonly #endpoint: string
  readonly #signal: AbortSignal | undefined
  readonly #resolve: (reply: Reply) => void
  readonly #reject: (error: MicroError) => void
  #message: Buffer | undefined
  #grpcType: string | undefined
  #settled = false
  #onAbort: (() => void) | undefined

  constructor(
    session: GrpcSession,
    call: OutboundCall,
    maxMessageSize: number,
    resolve: (reply: Reply) => void,
    reject: (error: MicroError) => void,
  ) {
    this.#session = session
    this.#endpoint = call.endpoint
    this.#signal = call.signal
    this.#resolve = resolve
    this.#reject = reject
    this.timeout = call.timeout
    const stream = session.session.request(requestHeaders(call.endpoint, call.headers, call.timeout), {
      endStream: false,
    })
    this.#stream = stream
    session.begin()
    if (this.timeout !== undefined) outbound.add(this)
    const reader = new MessageReader(maxMessageSize)
    const take = (message: Buffer) => {
      if (this.#message !== undefined)
        this.#fail(newError(CLIENT_ID, 'a unary reply had several messages', 502))
      this.#message = message
    }
    stream.on('response', (headers) => {
      const bad = badResponse(headers, session.address)
      if (bad) return this.#fail(bad)
      this.#grpcType = headers['content-type']
      if (headers['grpc-status'] !== undefined) this.#finish(headers)
    })
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, take)
      } catch (error) {
        this.#fail(newError(CLIENT_ID, (error as MessageError).message, 502))
      }
    })
    stream.on('trailers', (trailers) => this.#finish(trailers))
    stream.on('error', () => {
      // the stream closes next; 'close' says how the call ended
    })
    stream.once('close', () => {
      if (!this.#settled) this.#fail(endedWithoutStatus(session, stream, call.endpoint))
    })
    const signal = call.signal
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#cancel(canceled(CLIENT_ID, `call to ${call.endpoint} was canceled`))
        return
      }
      this.#onAbort = () => this.#cancel(canceled(CLIENT_ID, `call to ${call.endpoint} was canceled`))
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
    stream.end(frameMessage(call.body))
  }

  expire(): void {
    this.#cancel(timeoutError(CLIENT_ID, `call to ${this.#endpoint} timed out after ${this.timeout} ms`))
  }

  #finish(trailers: IncomingHttpHeaders): void {
    if (this.#settled) return
    const status = Number(trailers['grpc-status'])
    if (status !== 0) {
      this.#fail(
        errorFromStatus(
          status,
          trailers['grpc-message'] as string | undefined,
          trailers[MICRO_ERROR_TRAILER] as string | undefined,
        ),
      )
      return
    }
    const message = this.#message
    if (message === undefined) {
      this.#fail(newError(CLIENT_ID, `${this.#endpoint} answered without a message`, 502))
      return
    }
    this.#settle()
    this.#resolve({ body: message, headers: replyHeaders(this.#grpcType) })
  }

  #cancel(error: MicroError): void {
    if (this.#settled) return
    this.#fail(error)
    if (!this.#stream.destroyed) this.#stream.close(NGHTTP2_CANCEL)
  }

  #fail(error: MicroError): void {
    if (this.#settled) return
    this.#settle()
    this.#reject(error)
  }

  #settle(): void {
    this.#settled = true
    if (this.timeout !== undefined) outbound.remove(this)
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#session.end()
  }
}

/** Inbound messages buffered per stream before the HTTP/2 stream is paused. */
const INBOUND_HIGH_WATER = 64

/**
 * The client end of a streaming gRPC call. `headers` fill in when the server's response
 * headers arrive. Breaking out of `messages`, `fail`, an abort or the deadline cancel the
 * call (RST_STREAM CANCEL).
 */
export class GrpcClientChannel implements StreamChannel, Tracked {
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  /** Tracked: the stream's time in ms, and when it expires (the deadline list's). */
  readonly timeout: number | undefined
  expiresAt = Number.NaN
  readonly headers: Headers = {}
  readonly messages: AsyncQueue<Uint8Array>
  readonly #session: GrpcSession
  readonly #stream: ClientHttp2Stream
  readonly #endpoint: string
  readonly #controller = new AbortController()
  readonly #signal: AbortSignal | undefined
  #onAbort: (() => void) | undefined
  #over = false

  constructor(session: GrpcSession, call: OutboundStream, maxMessageSize: number) {
    this.#session = session
    this.#endpoint = call.endpoint
    this.#signal = call.signal
    this.timeout = call.timeout
    this.messages = new AsyncQueue<Uint8Array>({
      highWaterMark: INBOUND_HIGH_WATER,
      onPressure: (full) => (full ? stream.pause() : stream.resume()),
      onReturn: () => this.fail(canceled(CLIENT_ID, 'stream closed by the caller')),
    })
    const stream = session.session.request(requestHeaders(call.endpoint, call.headers, call.timeout), {
      endStream: false,
    })
    this.#stream = stream
    session.begin()
    if (this.timeout !== undefined) outbound.add(this)
    const reader = new MessageReader(maxMessageSize)
    const push = (message: Buffer) => this.messages.push(message)
    stream.on('response', (headers) => {
      const bad = badResponse(headers, session.address)
      if (bad) return this.fail(bad)
      const type = microContentType(headers['content-type'])
      if (type !== undefined) this.headers['content-type'] = type
      if (headers['grpc-status'] !== undefined) this.#finish(headers)
    })
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, push)
      } catch (error) {
        this.fail(newError(CLIENT_ID, (error as MessageError).message, 502))
      }
    })
    stream.on('trailers', (trailers) => this.#finish(trailers))
    stream.on('error', () => {
      // 'close' follows
    })
    stream.once('close', () => {
      if (!this.#over) this.#end(endedWithoutStatus(session, stream, call.endpoint))
    })
    if (call.signal !== undefined) {
      this.#onAbort = () => this.fail(canceled(CLIENT_ID, `stream to ${call.endpoint} was canceled`))
      if (call.signal.aborted) this.#onAbort()
      else call.signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  send(body: Uint8Array): Promise<void> {
    if (this.#over) return Promise.reject(this.#closedError())
    const stream = this.#stream
    if (stream.write(frameMessage(body))) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        stream.off('drain', done)
        stream.off('close', done)
        resolve()
      }
      stream.once('drain', done)
      stream.once('close', done)
    })
  }

  end(): void {
    if (!this.#over && !this.#stream.writableEnded) this.#stream.end()
  }

  fail(error: MicroError): void {
    if (this.#over) return
    this.#end(error)
    if (!this.#stream.destroyed) this.#stream.close(NGHTTP2_CANCEL)
  }

  expire(): void {
    this.fail(timeoutError(CLIENT_ID, `stream to ${this.#endpoint} passed its deadline`))
  }

  #finish(trailers: IncomingHttpHeaders): void {
    if (this.#over) return
    const status = Number(trailers['grpc-status'])
    if (status === 0) {
      this.#end(undefined)
      return
    }
    this.#end(
      errorFromStatus(
        status,
        trailers['grpc-message'] as string | undefined,
        trailers[MICRO_ERROR_TRAILER] as string | undefined,
      ),
    )
  }

  #end(error: MicroError | undefined): void {
    if (this.#over) return
    this.#over = true
    if (this.timeout !== undefined) outbound.remove(this)
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#session.end()
    if (error === undefined) {
      this.messages.end()
    } else {
      this.messages.fail(error)
      this.#controller.abort(error)
    }
  }

  #closedError(): MicroError {
    const reason = this.#controller.signal.reason
    return (reason as MicroError | undefined) ?? newError(CLIENT_ID, 'the stream is closed', 400)
  }
}
