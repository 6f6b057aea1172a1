import type { Server as HttpServer } from 'node:http'
import { createServer, type Server as NetServer, type Socket } from 'node:net'
import { formatAddress, parseAddress } from './address.js'
import { DEFAULT_MAX_FRAME_SIZE, PROTOCOL_VERSION } from './frame.js'
import { createHttpServer } from './http-server.js'
import { ServerConnection } from './server-connection.js'
import type { Dispatcher, Listener, ListenOptions } from './transport.js'

const UNKNOWN_PROTOCOL =
  'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 79\r\n\r\n' +
  'unrecognised protocol: expected the micro protocol (version byte 1) or HTTP/1.1'

/**
 * One TCP port, two protocols: the first byte tells them apart. The micro protocol starts
 * with its version byte (1); HTTP starts with an ASCII method name.
 */
export class TcpListener implements Listener {
  readonly address: string
  readonly #server: NetServer
  readonly #makeHttp: () => HttpServer
  /** Made when the first HTTP caller connects. */
  #http: HttpServer | undefined
  readonly #connections = new Set<ServerConnection>()
  readonly #sockets = new Set<Socket>()
  /** Accepted sockets that have not sent their first byte yet. */
  readonly #unclassified = new Set<Socket>()
  #draining = false
  #drained: Promise<void> | undefined
  #whenEmpty: (() => void) | undefined

  private constructor(address: string, server: NetServer, makeHttp: () => HttpServer) {
    this.address = address
    this.#server = server
    this.#makeHttp = makeHttp
  }

  /** Bind `address` (`host:port`, port 0 for any) and serve calls to `dispatcher`. */
  static async listen(
    address: string,
    dispatcher: Dispatcher,
    options: ListenOptions = {},
  ): Promise<TcpListener> {
    const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE
    const { host, port } = parseAddress(address)
    let listener: TcpListener | undefined
    const http = () =>
      createHttpServer(dispatcher, {
        maxBodySize: maxFrameSize,
        isDraining: () => listener?.draining ?? false,
        routes: options.routes,
      })
    const server = createServer({ noDelay: true }, (socket) =>
      listener?.accept(socket, dispatcher, maxFrameSize),
    )
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const bound = server.address()
    const boundPort = typeof bound === 'object' && bound ? bound.port : port
    listener = new TcpListener(formatAddress(host, boundPort), server, http)
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
    this.#sockets.add(socket)
    this.#unclassified.add(socket)
    socket.once('close', () => {
      this.#sockets.delete(socket)
      this.#unclassified.delete(socket)
      if (this.#sockets.size === 0) this.#whenEmpty?.()
    })
    socket.on('error', () => {
      // handled by whoever owns the socket next; an error before the first byte just closes it
    })
    socket.once('data', (first: Buffer) => {
      this.#unclassified.delete(socket)
      if (first[0] === PROTOCOL_VERSION) {
        const connection = new ServerConnection(socket, first, dispatcher, maxFrameSize, () =>
          this.#connections.delete(connection),
        )
        this.#connections.add(connection)
        if (this.#draining) connection.drain()
      } else if (looksLikeHttp(first)) {
        socket.pause()
        socket.unshift(first)
        this.#http ??= this.#makeHttp()
        this.#http.emit('connection', socket)
        socket.resume()
      } else {
        socket.end(UNKNOWN_PROTOCOL)
      }
    })
  }

  drain(): Promise<void> {
    if (this.#drained) return this.#drained
    this.#draining = true
    this.#server.close()
    this.#drained = new Promise<void>((resolve) => {
      this.#whenEmpty = resolve
    })
    for (const socket of this.#unclassified) socket.destroy()
    for (const connection of this.#connections) connection.drain()
    // Busy HTTP connections close after their response (Connection: close while draining).
    this.#http?.closeIdleConnections()
    if (this.#sockets.size === 0) this.#whenEmpty?.()
    return this.#drained
  }

  async close(): Promise<void> {
    void this.drain()
    for (const connection of this.#connections) connection.destroy()
    this.#http?.closeAllConnections()
    for (const socket of this.#sockets) socket.destroy()
  }
}

function looksLikeHttp(first: Buffer): boolean {
  const c = first[0] as number
  return c >= 0x41 && c <= 0x5a
}
