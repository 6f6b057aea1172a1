import type { Http2Server, IncomingHttpHeaders, ServerHttp2Session, ServerHttp2Stream } from 'node:http2'
import { newError, notFound } from '../../errors/errors.js'
import { formatAddress, parseAddress } from '../address.js'
import type { Dispatcher, Listener } from '../transport.js'
import { type MessageError, MessageReader } from './messages.js'
import {
  endpointOfPath,
  GrpcStatus,
  metadataFromHeaders,
  microContentType,
  parseGrpcTimeout,
} from './protocol.js'
import { GrpcServerChannel, GrpcUnaryCall, messageFailure, refuse } from './server-calls.js'

/** Limits of a gRPC port; each has a default. */
export interface GrpcServerLimits {
  /** Largest message accepted, bytes. Default 4 MiB (gRPC's own default). */
  maxMessageSize: number
  /** Streams (calls) one connection may have open at once (HTTP/2 SETTINGS). Default 1000. */
  maxConcurrentStreams: number
  /** Largest header block of a call, bytes. Default 16 KiB. */
  maxHeaderListSize: number
  /** Close a connection with no call open after this long idle, ms. Default 5 minutes. */
  idleTimeout: number
}

/** The gRPC server's default limits (streams, message size, timeouts). */
export const DEFAULT_GRPC_LIMITS: GrpcServerLimits = {
  maxMessageSize: 4 * 1024 * 1024,
  maxConcurrentStreams: 1000,
  maxHeaderListSize: 16 * 1024,
  idleTimeout: 300_000,
}

const SERVER_ID = 'micro.server'

/**
 * A gRPC port: HTTP/2 without TLS (h2c, prior knowledge, as gRPC clients speak it on
 * `insecure` channels). Each call's path names the endpoint (`/pkg.Greeter/SayHello` is
 * `Greeter.SayHello`); the content subtype picks the codec (`application/grpc` and
 * `+proto` protobuf, `+json`, `+msgpack`). Unknown methods are UNIMPLEMENTED, as gRPC
 * clients expect.
 */
export class GrpcListener implements Listener {
  readonly address: string
  readonly #server: Http2Server
  readonly #sessions = new Set<ServerHttp2Session>()
  #drained: Promise<void> | undefined

  private constructor(address: string, server: Http2Server) {
    this.address = address
    this.#server = server
  }

  /** Bind `address` (`host:port`, port 0 for any) and serve gRPC calls to `dispatcher`. */
  static async listen(
    address: string,
    dispatcher: Dispatcher,
    limits: Partial<GrpcServerLimits> = {},
  ): Promise<GrpcListener> {
    const l = { ...DEFAULT_GRPC_LIMITS, ...limits }
    const { host, port } = parseAddress(address)
    // node:http2 is loaded only by services that serve or call gRPC.
    const { createServer } = await import('node:http2')
    const server = createServer({
      settings: { maxConcurrentStreams: l.maxConcurrentStreams, maxHeaderListSize: l.maxHeaderListSize },
      maxSessionMemory: 32,
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const bound = server.address()
    const listener = new GrpcListener(
      formatAddress(host, typeof bound === 'object' && bound ? bound.port : port),
      server,
    )
    server.on('session', (session) => listener.#track(session, l.idleTimeout))
    server.on('stream', (stream, headers) => serveStream(stream, headers, dispatcher, l.maxMessageSize))
    server.on('error', () => {
      // listen errors were handled above; later server errors belong to a session
    })
    return listener
  }

  drain(): Promise<void> {
    if (this.#drained) return this.#drained
    this.#server.close()
    this.#drained = Promise.all(
      [...this.#sessions].map(
        (session) =>
          new Promise<void>((resolve) => {
            if (session.closed || session.destroyed) return resolve()
            session.once('close', () => resolve())
            // GOAWAY: no new streams; the session closes once its open streams end.
            session.close()
          }),
      ),
    ).then(() => {})
    return this.#drained
  }

  async close(): Promise<void> {
    void this.drain()
    for (const session of this.#sessions) session.destroy()
    await new Promise<void>((resolve) => {
      if (!this.#server.listening) resolve()
      else this.#server.close(() => resolve())
    })
  }

  #track(session: ServerHttp2Session, idleTimeout: number): void {
    if (this.#drained) {
      session.destroy()
      return
    }
    this.#sessions.add(session)
    session.once('close', () => this.#sessions.delete(session))
    session.on('error', () => {
      // a broken connection: its streams see 'close' and cancel their calls
    })
    let open = 0
    session.on('stream', (stream: ServerHttp2Stream) => {
      open++
      stream.once('close', () => open--)
    })
    session.setTimeout(idleTimeout, () => {
      if (open === 0) session.close()
    })
  }
}

/** Serve one HTTP/2 stream as a gRPC call. */
function serveStream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  dispatcher: Dispatcher,
  maxMessageSize: number,
): void {
  stream.on('error', () => {
    // reset by the peer or the session: 'close' follows and cancels the call
  })
  const grpcType = headers['content-type'] ?? ''
  const contentType = microContentType(grpcType)
  if (headers[':method'] !== 'POST' || contentType === undefined) {
    if (!grpcType.startsWith('application/grpc')) {
      // Not gRPC at all: plain HTTP answers, as the gRPC spec asks.
      stream.respond({ ':status': headers[':method'] === 'POST' ? 415 : 405 }, { endStream: true })
      return
    }
    refuse(stream, 'application/grpc', newError(SERVER_ID, `content type ${grpcType} is not supported`, 415))
    return
  }
  const encoding = headers['grpc-encoding']
  if (encoding !== undefined && encoding !== 'identity') {
    stream.respond(
      {
        ':status': 200,
        'content-type': grpcType,
        'grpc-status': String(GrpcStatus.UNIMPLEMENTED),
        'grpc-message': `grpc-encoding ${encoding} is not supported`,
        'grpc-accept-encoding': 'identity',
      },
      { endStream: true },
    )
    return
  }
  const path = headers[':path']
  const endpoint = endpointOfPath(path)
  const streaming = endpoint === undefined ? undefined : dispatcher.streaming?.(endpoint)
  if (endpoint === undefined || (streaming === undefined && dispatcher.streaming !== undefined)) {
    refuse(stream, grpcType, notFound(SERVER_ID, `unknown method ${path}`), GrpcStatus.UNIMPLEMENTED)
    return
  }
  const metadata = metadataFromHeaders(headers, contentType)
  const timeout = parseGrpcTimeout(headers['grpc-timeout'] as string | undefined)
  const remote = remoteOf(stream)
  if (streaming === true) {
    const channel = new GrpcServerChannel(stream, metadata, grpcType, maxMessageSize, SERVER_ID)
    dispatcher.stream(
      { endpoint, headers: metadata, body: EMPTY, timeout, remote, protocol: 'grpc' },
      channel,
    )
    return
  }
  readUnary(stream, grpcType, maxMessageSize, (body) =>
    dispatcher.unary(new GrpcUnaryCall(stream, endpoint, metadata, body, timeout, remote, grpcType)),
  )
}

const EMPTY = new Uint8Array(0)

/** Read the one request message of a unary call, then hand it on; anything else is refused. */
function readUnary(
  stream: ServerHttp2Stream,
  grpcType: string,
  maxMessageSize: number,
  onRequest: (body: Uint8Array) => void,
): void {
  const reader = new MessageReader(maxMessageSize)
  let request: Buffer | undefined
  let count = 0
  let failed = false
  const take = (message: Buffer) => {
    count++
    request = message
  }
  stream.on('data', (chunk: Buffer) => {
    if (failed) return
    try {
      reader.push(chunk, take)
    } catch (error) {
      failed = true
      refuse(stream, grpcType, messageFailure(SERVER_ID, error as MessageError))
      return
    }
    if (count > 1) {
      failed = true
      refuse(stream, grpcType, newError(SERVER_ID, 'a unary call takes one request message', 500))
    }
  })
  stream.once('end', () => {
    if (failed) return
    if (count !== 1 || reader.partial || request === undefined) {
      refuse(stream, grpcType, newError(SERVER_ID, 'a unary call takes exactly one request message', 500))
      return
    }
    onRequest(request)
  })
}

function remoteOf(stream: ServerHttp2Stream): string {
  const socket = stream.session?.socket
  const address = socket?.remoteAddress
  return address === undefined ? '' : formatAddress(address, socket?.remotePort ?? 0)
}
