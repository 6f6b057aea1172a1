import type {
  Http2SecureServer,
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2'
import type { TLSSocket } from 'node:tls'
import { newError, notFound } from '../../errors/errors.js'
import { formatAddress, parseAddress } from '../address.js'
import { contextOptions } from '../tls/credentials.js'
import { attachPeer, type PeerIdentity, peerIdentityOf } from '../tls/peer.js'
import type { ServerTls } from '../tls/server.js'
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
  /** With TLS, a handshake must be done within this, ms. Default 10 s (the service port's header timeout). */
  handshakeTimeout: number
}

/** The gRPC server's default limits (streams, message size, timeouts). */
export const DEFAULT_GRPC_LIMITS: GrpcServerLimits = {
  maxMessageSize: 4 * 1024 * 1024,
  maxConcurrentStreams: 1000,
  maxHeaderListSize: 16 * 1024,
  idleTimeout: 300_000,
  handshakeTimeout: 10_000,
}

const SERVER_ID = 'micro.server'

/**
 * A gRPC port: HTTP/2 without TLS (h2c, prior knowledge, as gRPC clients speak it on
 * `insecure` channels), or, given TLS, HTTP/2 over TLS only (h2 by ALPN) with the client
 * certificates the TLS asks for; a verified client certificate rides on each call's
 * metadata as the micro port's does (`peerOf`). Each call's path names the endpoint (`/pkg.Greeter/SayHello` is
 * `Greeter.SayHello`); the content subtype picks the codec (`application/grpc` and
 * `+proto` protobuf, `+json`, `+msgpack`). Unknown methods are UNIMPLEMENTED, as gRPC
 * clients expect.
 */
export class GrpcListener implements Listener {
  readonly address: string
  readonly #server: Http2Server | Http2SecureServer
  readonly #sessions = new Set<ServerHttp2Session>()
  #stopUpdates: (() => void) | undefined
  #drained: Promise<void> | undefined

  private constructor(address: string, server: Http2Server | Http2SecureServer) {
    this.address = address
    this.#server = server
  }

  /** Bind `address` (`host:port`, port 0 for any) and serve gRPC calls to `dispatcher`, over TLS when `tls` is given. */
  static async listen(
    address: string,
    dispatcher: Dispatcher,
    limits: Partial<GrpcServerLimits> = {},
    tls?: ServerTls,
  ): Promise<GrpcListener> {
    const l = { ...DEFAULT_GRPC_LIMITS, ...withoutUndefined(limits) }
    const { host, port } = parseAddress(address)
    // node:http2 is loaded only by services that serve or call gRPC.
    const http2 = await import('node:http2')
    const common = {
      settings: { maxConcurrentStreams: l.maxConcurrentStreams, maxHeaderListSize: l.maxHeaderListSize },
      maxSessionMemory: 32,
    }
    let server: Http2Server | Http2SecureServer
    if (tls) {
      // A server with no certificate cannot answer a handshake: fail here, not per connection.
      void tls.credentials.serverContext
      server = http2.createSecureServer({
        ...common,
        ...contextOptions(tls.credentials.material),
        requestCert: true,
        rejectUnauthorized: tls.clientAuth === 'require',
        handshakeTimeout: l.handshakeTimeout,
        allowHTTP1: false,
      })
      server.on('tlsClientError', () => {
        // a failed handshake (garbage, plain h2c, a bad or missing certificate): node closes it
      })
    } else {
      server = http2.createServer(common)
    }
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
    if (tls) {
      const secure = server as Http2SecureServer
      listener.#stopUpdates = tls.credentials.onUpdate((current) =>
        secure.setSecureContext(contextOptions(current.material)),
      )
    }
    server.on('session', (session: ServerHttp2Session) => {
      if (tls && !verifyPeer(session)) return
      listener.#track(session, l.idleTimeout)
    })
    server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      serveStream(stream, headers, dispatcher, l.maxMessageSize),
    )
    server.on('error', () => {
      // listen errors were handled above; later server errors belong to a session
    })
    return listener
  }

  drain(): Promise<void> {
    if (this.#drained) return this.#drained
    this.#stopUpdates?.()
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
  const peer = stream.session ? sessionPeers.get(stream.session) : undefined
  if (peer !== undefined) attachPeer(metadata, peer)
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

/** The verified client certificate of each TLS connection. */
const sessionPeers = new WeakMap<object, PeerIdentity>()

/**
 * Remember the verified client certificate of a TLS connection; false (and the
 * connection closed) when one was shown that did not verify (`request` mode lets the
 * handshake finish): a bad certificate is refused, never taken as no certificate.
 */
function verifyPeer(session: ServerHttp2Session): boolean {
  const socket = session.socket as TLSSocket
  const certificate = socket.getPeerCertificate?.()
  const presented =
    certificate !== null && typeof certificate === 'object' && Object.keys(certificate).length > 0
  if (!presented) return true
  if (!socket.authorized) {
    session.destroy()
    return false
  }
  const peer = peerIdentityOf(certificate)
  if (peer !== undefined) sessionPeers.set(session, peer)
  return true
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

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
