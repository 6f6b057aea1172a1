import type { Server as HttpServer } from 'node:http'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { formatAddress, parseAddress } from './address.js'
import { DEFAULT_MAX_FRAME_SIZE, PROTOCOL_VERSION } from './frame.js'
import { HttpPeer } from './http-peer.js'
import { createHttpServer } from './http-server.js'
import { DEFAULT_LIMITS } from './limits.js'
import { ServerConnection } from './server-connection.js'
import { Phase, Stall, Sweeper, type Swept } from './sweeper.js'
import { attachPeer, type PeerIdentity, rememberPeer } from './tls/peer.js'
import { refusePlain } from './tls/refusal.js'
import { TLS_HANDSHAKE, TlsAcceptor } from './tls/server.js'
import type { Dispatcher, Listener, ListenOptions } from './transport.js'

const UNKNOWN_PROTOCOL =
  'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 79\r\n\r\n' +
  'unrecognised protocol: expected the micro protocol (version byte 1) or HTTP/1.1'

/**
 * One TCP port, two protocols: the first byte tells them apart. The micro protocol starts
 * with its version byte (1); HTTP starts with an ASCII method name. With `tls` the port
 * takes TLS only (first byte 0x16) and tells them apart inside it. The listener applies
 * the port's limits (`ListenOptions.limits`) to both: one sweeper closes connections whose
 * first byte, head, frame or body stalls, and idle ones.
 */
export class TcpListener implements Listener {
  readonly address: string
  readonly #server: NetServer
  readonly #makeHttp: () => HttpServer
  readonly #sweeper: Sweeper
  /** Set on a TLS port: every connection must start with a handshake. */
  readonly #tls: TlsAcceptor | undefined
  /** Made when the first HTTP caller connects. */
  #http: HttpServer | undefined
  readonly #connections = new Set<ServerConnection>()
  readonly #httpPeers = new Set<HttpPeer>()
  readonly #sockets = new Set<Socket>()
  /** Accepted sockets that have not sent their first byte yet. */
  readonly #unclassified = new Set<Socket>()
  #draining = false
  #drained: Promise<void> | undefined
  #whenEmpty: (() => void) | undefined

  private constructor(
    address: string,
    server: NetServer,
    makeHttp: () => HttpServer,
    sweeper: Sweeper,
    tls: TlsAcceptor | undefined,
  ) {
    this.address = address
    this.#server = server
    this.#makeHttp = makeHttp
    this.#sweeper = sweeper
    this.#tls = tls
  }

  /** Bind `address` (`host:port`, port 0 for any) and serve calls to `dispatcher`. */
  static async listen(
    address: string,
    dispatcher: Dispatcher,
    options: ListenOptions = {},
  ): Promise<TcpListener> {
    const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE
    const limits = options.limits ?? DEFAULT_LIMITS
    const sweeper = new Sweeper(limits)
    const { host, port } = parseAddress(address)
    const tls = options.tls === undefined ? undefined : new TlsAcceptor(options.tls)
    let listener: TcpListener | undefined
    const http = () =>
      createHttpServer(dispatcher, {
        maxBodySize: maxFrameSize,
        isDraining: () => listener?.draining ?? false,
        routes: options.routes,
        allowedOrigins: limits.allowedOrigins,
      })
    const server = createServer({ noDelay: true }, (socket) =>
      listener?.accept(socket, dispatcher, maxFrameSize),
    )
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => {
        tls?.close()
        reject(error)
      })
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const bound = server.address()
    const boundPort = typeof bound === 'object' && bound ? bound.port : port
    listener = new TcpListener(formatAddress(host, boundPort), server, http, sweeper, tls)
    return listener
  }

  get draining(): boolean {
    return this.#draining
  }

  /** Connections currently open. */
  get connectionCount(): number {
    return this.#sockets.size
  }

  accept(socket: Socket, dispatcher: Dispatcher, maxFrameSize: number): void {
    if (this.#draining) {
      socket.destroy()
      return
    }
    const sweeper = this.#sweeper
    // One stall count from connect to the first complete head or frame header.
    const stall = new Stall()
    const silent: Swept = {
      sweep: () => {
        if (Stall.expired(Phase.Head, stall.observe(Phase.Head, 0), sweeper.bounds)) socket.destroy()
      },
    }
    sweeper.add(silent)
    this.#sockets.add(socket)
    this.#unclassified.add(socket)
    socket.once('close', () => {
      sweeper.delete(silent)
      this.#sockets.delete(socket)
      this.#unclassified.delete(socket)
      if (this.#sockets.size === 0) this.#whenEmpty?.()
    })
    socket.on('error', () => {
      // handled by whoever owns the socket next; an error before the first byte just closes it
    })
    socket.once('data', (first: Buffer) => {
      if (this.#tls !== undefined) {
        this.#acceptTls(this.#tls, socket, first, dispatcher, maxFrameSize, stall, silent)
        return
      }
      sweeper.delete(silent)
      this.#unclassified.delete(socket)
      this.#serve(socket, first, dispatcher, maxFrameSize, stall)
    })
  }

  /** Tell the micro protocol from HTTP by the first byte (inside TLS too), and serve it. */
  #serve(socket: Socket, first: Buffer, dispatcher: Dispatcher, maxFrameSize: number, stall: Stall): void {
    const sweeper = this.#sweeper
    if (first[0] === PROTOCOL_VERSION) {
      const connection: ServerConnection = new ServerConnection(
        socket,
        first,
        dispatcher,
        maxFrameSize,
        sweeper.bounds,
        stall,
        () => {
          this.#connections.delete(connection)
          sweeper.delete(connection)
        },
      )
      this.#connections.add(connection)
      sweeper.add(connection)
      if (this.#draining) connection.drain()
    } else if (looksLikeHttp(first)) {
      const peer = new HttpPeer(socket, sweeper.bounds, stall)
      this.#httpPeers.add(peer)
      sweeper.add(peer)
      socket.once('close', () => {
        this.#httpPeers.delete(peer)
        sweeper.delete(peer)
        peer.lost()
      })
      socket.pause()
      socket.unshift(first)
      this.#http ??= this.#makeHttp()
      this.#http.emit('connection', socket)
      socket.resume()
    } else {
      socket.end(UNKNOWN_PROTOCOL)
    }
  }

  /**
   * A TLS port: a ClientHello goes to the handshake; the decrypted stream is then served as
   * a plain one is, its calls marked with the client's verified certificate. Anything else
   * is told the port wants TLS. The head timeout bounds the handshake and the first byte
   * inside it together.
   */
  #acceptTls(
    tls: TlsAcceptor,
    socket: Socket,
    first: Buffer,
    dispatcher: Dispatcher,
    maxFrameSize: number,
    stall: Stall,
    silent: Swept,
  ): void {
    const classified = () => {
      this.#sweeper.delete(silent)
      this.#unclassified.delete(socket)
    }
    if (first[0] !== TLS_HANDSHAKE) {
      classified()
      refusePlain(socket, first, maxFrameSize)
      return
    }
    tls.accept(socket, first, (secure, peer) => {
      secure.once('close', () => socket.destroy())
      secure.on('error', () => {})
      if (this.#draining) {
        secure.destroy()
        return
      }
      if (peer !== undefined) rememberPeer(secure, peer)
      secure.once('data', (inner: Buffer) => {
        classified()
        this.#serve(secure, inner, peer ? withPeer(dispatcher, peer) : dispatcher, maxFrameSize, stall)
      })
    })
  }

  /**
   * Refuse new connections, close the ones with nothing in flight (idle, or in the middle
   * of sending a request) at once, and the others after their last reply.
   */
  drain(): Promise<void> {
    if (this.#drained) return this.#drained
    this.#draining = true
    this.#server.close()
    this.#drained = new Promise<void>((resolve) => {
      this.#whenEmpty = resolve
    })
    for (const socket of this.#unclassified) socket.destroy()
    for (const connection of this.#connections) connection.drain()
    for (const peer of this.#httpPeers) peer.drain()
    if (this.#sockets.size === 0) this.#whenEmpty?.()
    return this.#drained
  }

  async close(): Promise<void> {
    void this.drain()
    this.#tls?.close()
    for (const connection of this.#connections) connection.destroy()
    for (const socket of this.#sockets) socket.destroy()
    this.#sweeper.stop()
  }
}

/** A dispatcher that marks every call of one TLS connection with its client's verified identity. */
function withPeer(dispatcher: Dispatcher, peer: PeerIdentity): Dispatcher {
  return {
    unary(call) {
      attachPeer(call.headers, peer)
      dispatcher.unary(call)
    },
    stream(call, channel) {
      attachPeer(call.headers, peer)
      dispatcher.stream(call, channel)
    },
    ...(dispatcher.streaming ? { streaming: (endpoint: string) => dispatcher.streaming?.(endpoint) } : {}),
  }
}

function looksLikeHttp(first: Buffer): boolean {
  const c = first[0] as number
  return c >= 0x41 && c <= 0x5a
}
