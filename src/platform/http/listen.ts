import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { formatAddress, parseAddress } from '../../transport/address.js'
import type { HttpPart } from './router.js'

/** Limits on what a slow or idle client can hold. */
export interface HttpLimits {
  /** Time to receive a request's headers, ms. Default 10 000. */
  headersTimeout?: number
  /** Time to receive a whole request (headers and body), ms. Default 30 000. */
  readTimeout?: number
  /** Idle time between requests on a kept-alive connection, ms. Default 5000. */
  keepAliveTimeout?: number
  /** Largest request head, bytes. Default 16 KiB (Node's). */
  maxHeaderSize?: number
}

/** A listening HTTP server. */
export interface HttpListener {
  /** `host:port` actually bound. */
  readonly address: string
  readonly server: Server
  /** Stop accepting, close idle connections, and end the others. */
  close(): Promise<void>
}

/**
 * Listen on `address` (`host:port`, port 0 for any) and serve `part`: requests through
 * `handle`, upgrades through `upgrade` (refused when it has none). Node's own timeouts
 * bound slow clients: a request head or body that does not arrive in time is answered
 * 408 and the connection closed.
 */
export async function listenHttp(
  address: string,
  part: HttpPart,
  limits: HttpLimits = {},
): Promise<HttpListener> {
  const { host, port } = parseAddress(address)
  const headersTimeout = limits.headersTimeout ?? 10_000
  const readTimeout = Math.max(limits.readTimeout ?? 30_000, headersTimeout)
  const server = createServer(
    {
      headersTimeout,
      requestTimeout: readTimeout,
      keepAliveTimeout: limits.keepAliveTimeout ?? 5000,
      maxHeaderSize: limits.maxHeaderSize ?? 16 * 1024,
      // Node checks the timeouts above on this interval (default 30 s, far coarser than them).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      part.handle(req, res)
    },
  )
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (part.upgrade) part.upgrade(req, socket, head)
    else socket.destroy()
  })
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy()
      return
    }
    const status =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : clientErrorStatus(error)
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = server.address()
  const actual = typeof bound === 'object' && bound ? formatAddress(bound.address, bound.port) : address
  return {
    address: actual,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        // Connections with a request in flight get a moment to finish, then are cut.
        setTimeout(() => server.closeAllConnections(), 1000).unref()
      }),
  }
}

function clientErrorStatus(error: NodeJS.ErrnoException): string {
  if (error.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large'
  return '400 Bad Request'
}
