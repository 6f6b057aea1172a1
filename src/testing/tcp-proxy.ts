import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on loopback for fault tests: put it between a client and a real server,
 * then `cut()` every connection (as if the server restarted) or `pause()` new ones.
 */
export class TcpProxy {
  readonly #server: Server
  readonly #target: { host: string; port: number }
  readonly #pairs = new Set<[Socket, Socket]>()
  #refusing = false
  #delayMs = 0
  /** Connections accepted so far. */
  accepted = 0

  private constructor(server: Server, target: { host: string; port: number }) {
    this.#server = server
    this.#target = target
  }

  /** Listen on a free loopback port and forward to `target` (`host:port`). */
  static async start(target: string): Promise<TcpProxy> {
    const colon = target.lastIndexOf(':')
    const host = target.slice(0, colon)
    const port = Number(target.slice(colon + 1))
    let proxy: TcpProxy | undefined
    const server = createServer((socket) => proxy?.accept(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    proxy = new TcpProxy(server, { host, port })
    return proxy
  }

  /** `host:port` clients should connect to. */
  get address(): string {
    const a = this.#server.address()
    return `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`
  }

  /** Take a client connection (the proxy's listener calls this). */
  accept(client: Socket): void {
    if (this.#refusing) {
      client.destroy()
      return
    }
    this.accepted++
    const upstream = connect(this.#target)
    const pair: [Socket, Socket] = [client, upstream]
    this.#pairs.add(pair)
    const close = () => {
      client.destroy()
      upstream.destroy()
      this.#pairs.delete(pair)
    }
    client.on('error', close).on('close', close)
    upstream.on('error', close).on('close', close)
    if (this.#delayMs > 0) {
      delayed(client, upstream, this.#delayMs)
      delayed(upstream, client, this.#delayMs)
    } else {
      client.pipe(upstream)
      upstream.pipe(client)
    }
  }

  /**
   * Hold every byte `ms` before passing it on, both ways, on connections made from now on
   * (a slow network or a slow node). Order is kept; 0 turns it off for new connections.
   */
  delay(ms: number): void {
    this.#delayMs = ms
  }

  /** Drop every open connection now (both sides see a reset). */
  cut(): void {
    for (const pair of this.#pairs) {
      // resetAndDestroy() on a socket already ending fails (EINVAL) and, on Node 20, can
      // leave the process spinning at exit: plain destroy() for those.
      for (const socket of pair) {
        if (socket.writableEnded || socket.destroyed) socket.destroy()
        else socket.resetAndDestroy()
      }
    }
    this.#pairs.clear()
  }

  /** Refuse (close at once) new connections until `resume()`, as a server that is down. */
  refuse(): void {
    this.#refusing = true
  }

  /** Accept new connections again after `refuse()`. */
  resume(): void {
    this.#refusing = false
  }

  /** Cut every connection and stop listening. */
  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

/** Forward `from` to `to`, each chunk (and the end) `ms` later; same-delay timers keep the order. */
function delayed(from: Socket, to: Socket, ms: number): void {
  from.on('data', (chunk: Buffer) => {
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk)
    }, ms)
  })
  from.on('end', () => {
    setTimeout(() => {
      if (!to.destroyed) to.end()
    }, ms)
  })
}
