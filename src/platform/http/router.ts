import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { notFound } from '../../errors/errors.js'
import { sendError } from './reply.js'

/**
 * One part of the platform's HTTP surface (the gateway, the dashboard, /mcp ...). A part
 * answers the requests it owns and returns true; for any other path it returns false
 * without touching the request, so the next part can have it.
 */
export interface HttpPart {
  /** Answer a request this part owns (true); false, untouched, for any other. */
  handle(req: IncomingMessage, res: ServerResponse): boolean
  /** A WebSocket (or other) upgrade; true when the part took the socket. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
}

/** A request handler mounted under a path prefix. */
export type PrefixHandler = (req: IncomingMessage, res: ServerResponse) => void

/**
 * A tiny ordered router: parts and prefix handlers are tried in the order they were added,
 * and the first that owns a request answers it. Nothing owns it: a 404 error JSON.
 * Upgrades nobody takes are refused with a 404 and the socket is closed.
 */
export class HttpRouter implements HttpPart {
  readonly #parts: HttpPart[] = []

  /** Add a part; it sees requests after the parts added before it. */
  use(part: HttpPart): this {
    this.#parts.push(part)
    return this
  }

  /** Answer every path that is `prefix` or starts with `prefix/` (`/` matches everything). */
  mount(prefix: string, handler: PrefixHandler): this {
    const base = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
    return this.use({
      handle(req, res) {
        const path = pathOf(req.url)
        if (base !== '' && path !== base && !path.startsWith(`${base}/`)) return false
        handler(req, res)
        return true
      },
    })
  }

  /** Hand a request to the first part that owns it; false when none does. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    for (const part of this.#parts) if (part.handle(req, res)) return true
    req.resume()
    sendError(res, notFound('micro.http', `nothing is served at ${pathOf(req.url)}`))
    return true
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    for (const part of this.#parts) if (part.upgrade?.(req, socket, head)) return true
    refuseUpgrade(socket, 404, 'Not Found')
    return true
  }
}

/** The path of a request URL, without the query. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/** Refuse an upgrade with a plain HTTP status and close the socket. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string, body = ''): void {
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    )
  } else {
    socket.destroy()
  }
}
