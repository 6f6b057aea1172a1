import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2'
import { canceled, type MicroError, newError } from '../../errors/errors.js'
import { AsyncQueue } from '../../util/async-queue.js'
import type { Headers } from '../frame.js'
import type { InboundCall, StreamChannel } from '../transport.js'
import { frameMessage, type MessageError, MessageReader } from './messages.js'
import { encodeGrpcMessage, grpcStatusOf, MICRO_ERROR_TRAILER } from './protocol.js'

const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' })

/** Trailers reporting `error`; `status` overrides the status its code maps to. */
export function errorTrailers(error: MicroError, status = grpcStatusOf(error.code)): OutgoingHttpHeaders {
  return {
    'grpc-status': String(status),
    'grpc-message': encodeGrpcMessage(error.detail),
    [MICRO_ERROR_TRAILER]: encodeGrpcMessage(JSON.stringify(error)),
  }
}

/** Answer a stream that has sent no headers yet with a trailers-only error response. */
export function refuse(
  stream: ServerHttp2Stream,
  grpcType: string,
  error: MicroError,
  status = grpcStatusOf(error.code),
): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return
  stream.respond(
    { ':status': 200, 'content-type': grpcType, ...errorTrailers(error, status) },
    { endStream: true },
  )
}

/** The error a bad message stream stands for: too large is RESOURCE_EXHAUSTED (413), the rest INTERNAL. */
export function messageFailure(service: string, error: MessageError): MicroError {
  return newError(service, error.message, error.kind === 'size' ? 413 : 500)
}

/**
 * A unary gRPC call handed to the server core: the request message was read in full; the
 * reply is one message and `grpc-status: 0`, or a trailers-only error. The client closing
 * the stream first cancels it.
 */
export class GrpcUnaryCall implements InboundCall {
  readonly endpoint: string
  readonly headers: Headers
  readonly body: Uint8Array
  readonly timeout: number | undefined
  readonly remote: string
  readonly protocol = 'grpc'
  onCancel: ((reason: MicroError) => void) | undefined = undefined
  readonly #stream: ServerHttp2Stream
  readonly #grpcType: string
  #done = false

  constructor(
    stream: ServerHttp2Stream,
    endpoint: string,
    headers: Headers,
    body: Uint8Array,
    timeout: number | undefined,
    remote: string,
    grpcType: string,
  ) {
    this.#stream = stream
    this.endpoint = endpoint
    this.headers = headers
    this.body = body
    this.timeout = timeout
    this.remote = remote
    this.#grpcType = grpcType
    stream.once('close', () => {
      if (this.#done) return
      this.#done = true
      this.onCancel?.(canceled('micro.server', `the caller closed ${endpoint}`))
    })
  }

  respond(body: Uint8Array): void {
    if (this.#done) return
    this.#done = true
    const stream = this.#stream
    if (stream.destroyed || stream.closed) return
    stream.respond({ ':status': 200, 'content-type': this.#grpcType }, { waitForTrailers: true })
    stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS))
    stream.end(frameMessage(body))
  }

  fail(error: MicroError): void {
    if (this.#done) return
    this.#done = true
    refuse(this.#stream, this.#grpcType, error)
  }
}

/** Inbound messages buffered per stream before the HTTP/2 stream is paused (flow control takes over). */
const INBOUND_HIGH_WATER = 64

/**
 * The server end of a streaming gRPC call as a StreamChannel: messages from the client's
 * DATA frames, replies as messages, the end as `grpc-status` trailers. Response headers go
 * out with the first reply (or the end). A client that resets the stream cancels it.
 */
export class GrpcServerChannel implements StreamChannel {
  readonly headers: Headers
  readonly messages: AsyncQueue<Uint8Array>
  readonly #stream: ServerHttp2Stream
  readonly #grpcType: string
  readonly #controller = new AbortController()
  #trailers: OutgoingHttpHeaders = OK_TRAILERS
  #headersSent = false
  #over = false

  constructor(
    stream: ServerHttp2Stream,
    headers: Headers,
    grpcType: string,
    maxMessageSize: number,
    service: string,
  ) {
    this.#stream = stream
    this.headers = headers
    this.#grpcType = grpcType
    this.messages = new AsyncQueue<Uint8Array>({
      highWaterMark: INBOUND_HIGH_WATER,
      onPressure: (full) => (full ? stream.pause() : stream.resume()),
    })
    const reader = new MessageReader(maxMessageSize)
    const push = (message: Buffer) => this.messages.push(message)
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk, push)
      } catch (error) {
        this.fail(messageFailure(service, error as MessageError))
      }
    })
    stream.on('end', () => {
      if (reader.partial) this.fail(newError(service, 'the stream ended inside a message', 500))
      else this.messages.end()
    })
    stream.on('wantTrailers', () => stream.sendTrailers(this.#trailers))
    stream.once('close', () => {
      if (this.#over) return
      this.#finish(canceled('micro.server', 'the caller canceled the stream'))
    })
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  send(body: Uint8Array): Promise<void> {
    if (this.#over) return Promise.reject(this.#closedError())
    this.#sendHeaders()
    if (this.#stream.write(frameMessage(body))) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        this.#stream.off('drain', done)
        this.#stream.off('close', done)
        resolve()
      }
      this.#stream.once('drain', done)
      this.#stream.once('close', done)
    })
  }

  end(): void {
    if (this.#over) return
    this.#over = true
    this.#sendHeaders()
    this.#stream.end()
    this.messages.end()
  }

  fail(error: MicroError): void {
    if (this.#over) return
    const stream = this.#stream
    if (!this.#headersSent) {
      this.#headersSent = true
      refuse(stream, this.#grpcType, error)
    } else if (!stream.destroyed && !stream.closed) {
      this.#trailers = errorTrailers(error)
      stream.end()
    }
    this.#finish(error)
  }

  #finish(error: MicroError): void {
    this.#over = true
    this.messages.fail(error)
    this.#controller.abort(error)
  }

  #sendHeaders(): void {
    if (this.#headersSent) return
    this.#headersSent = true
    const stream = this.#stream
    if (stream.destroyed || stream.closed) return
    stream.respond({ ':status': 200, 'content-type': this.#grpcType }, { waitForTrailers: true })
  }

  #closedError(): MicroError {
    const reason = this.#controller.signal.reason
    return (reason as MicroError | undefined) ?? canceled('micro.server', 'the stream is closed')
  }
}
