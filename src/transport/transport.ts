import type { IncomingMessage, ServerResponse } from 'node:http'
import type { MicroError } from '../errors/errors.js'
import type { Headers } from './frame.js'
import type { ServerLimits } from './limits.js'
import type { TlsCredentials } from './tls/credentials.js'
import type { ServerTls } from './tls/server.js'

export type { Headers } from './frame.js'

/** What the server knows about an arriving call or stream, whatever carried it. */
export interface CallInfo {
  readonly endpoint: string
  /** Every header the caller sent, lower-case keys (content-type, metadata, ...). */
  readonly headers: Headers
  /** The request body of a unary call; empty for a stream (messages come on the channel). */
  readonly body: Uint8Array
  /** Milliseconds the caller allows, from when the call arrived. */
  readonly timeout: number | undefined
  /** The peer's address, `host:port`. */
  readonly remote: string
  /** Which protocol carried the call: `micro`, `http`, ... */
  readonly protocol: string
}

/**
 * A unary call as the server core sees it (micro protocol, HTTP, NATS). The server answers
 * it exactly once with `respond` or `fail`; the transport calls `onCancel` if the caller
 * abandons it first (cancel, disconnect).
 */
export interface InboundCall extends CallInfo {
  /** Set by the server core; the transport calls it if the call is abandoned by the caller. */
  onCancel: ((reason: MicroError) => void) | undefined
  /** Send the reply body (unary calls). */
  respond(body: Uint8Array, headers?: Headers): void
  /** Send an error instead of a reply (unary calls). */
  fail(error: MicroError): void
}

/** A successful unary reply as a client receives it. Failures are rejected as MicroError. */
export interface Reply {
  body: Uint8Array
  headers?: Headers | undefined
}

/**
 * One open bidirectional stream, the same shape on both ends: read what the peer sends
 * from `messages`, send with `send`, half-close with `end`, abort with `fail`.
 */
export interface StreamChannel {
  /** Headers the peer opened the stream with (server side) or replied with (client side). */
  readonly headers: Headers
  /** Messages from the peer; ends on the peer's half-close, throws on error or cancel. */
  readonly messages: AsyncIterable<Uint8Array>
  /** Send one message; resolves once the transport can take more (backpressure). */
  send(body: Uint8Array): Promise<void>
  /** Half-close: nothing more will be sent. */
  end(): void
  /** Abort the stream: the server sends the error to the client, the client cancels. */
  fail(error: MicroError): void
  /** Aborted when the stream ends abnormally (cancel, error, connection lost). */
  readonly signal: AbortSignal
}

/** What a transport hands calls to: the server core. */
export interface Dispatcher {
  /** Serve a unary call; answer it through `call.respond` or `call.fail`. */
  unary(call: InboundCall): void
  /** Serve a stream: its messages both ways go through `channel`. */
  stream(call: CallInfo, channel: StreamChannel): void
  /**
   * Whether `endpoint` is a streaming endpoint; undefined when it is not served here.
   * Transports whose wire does not say (gRPC: a unary call and a stream look alike) ask.
   */
  streaming?(endpoint: string): boolean | undefined
}

/** A call leaving this process. */
export interface OutboundCall {
  endpoint: string
  /** content-type, metadata and any other headers, lower-case keys. */
  headers: Headers
  body: Uint8Array
  /** Milliseconds the call may take; sent to the server and enforced here. */
  timeout: number | undefined
  signal: AbortSignal | undefined
}

/** A stream a client opens: the endpoint, its headers, its time limit and cancellation. */
export interface OutboundStream {
  endpoint: string
  headers: Headers
  timeout: number | undefined
  signal: AbortSignal | undefined
}

/** A GET route on the HTTP side of a service port (health probes), node:http style. */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => unknown

/** Options of `transport.listen(address, dispatcher, options)`. */
export interface ListenOptions {
  /** Largest header block plus body of one frame, and largest HTTP body. Default 4 MiB. */
  maxFrameSize?: number
  /** GET and HEAD routes by exact path, consulted (per request) before the HTTP side's POST-only rule. */
  routes?: {
    /** The route for a path, or undefined. */
    get(path: string): HttpRoute | undefined
  }
  /** What one peer may make the listener hold, and cross-site rules. Default DEFAULT_LIMITS. */
  limits?: ServerLimits
  /**
   * Serve TLS only (both protocols inside it), with these credentials; plain connections
   * get an error saying so. Transports that cannot (NATS) refuse to listen with it.
   */
  tls?: ServerTls
}

/** A bound server socket. */
export interface Listener {
  /** The address actually bound, `host:port`. */
  readonly address: string
  /**
   * Stop taking calls: refuse new connections and tell connected clients to go away.
   * Resolves once every connection has finished its calls, sent its replies and closed.
   */
  drain(): Promise<void>
  /** Close every connection now. */
  close(): Promise<void>
}

/**
 * Synchronous request/response and streams between services. The default speaks the
 * micro protocol (and HTTP) over TCP; others (NATS) plug in behind the same interface.
 */
export interface Transport {
  readonly name: string
  /** Listen on `address` and hand every call to `dispatcher`; resolves once listening. */
  listen(address: string, dispatcher: Dispatcher, options?: ListenOptions): Promise<Listener>
  /** One unary call to a node; rejects with a MicroError. */
  call(address: string, call: OutboundCall): Promise<Reply>
  /** Open a stream to a node. */
  stream(address: string, call: OutboundStream): Promise<StreamChannel>
  /** Close pooled connections. */
  close(): Promise<void>
  /**
   * This transport over mutual TLS: dial presenting `credentials`, and require the server's
   * certificate to name `expected` (`micro://<namespace>/<service>`). Absent on transports
   * that bring their own TLS (NATS).
   */
  secure?(credentials: TlsCredentials, expected: string): Transport
}
