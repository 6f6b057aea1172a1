import type { IncomingMessage, ServerResponse } from 'node:http'

const METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'
const BASE_HEADERS = [
  'content-type',
  'accept',
  'authorization',
  'micro-version',
  'micro-timeout',
  'micro-namespace',
]

/**
 * CORS from an allow-list of origins (`https://app.example.com`), never a reflection of
 * whatever Origin arrives (Micro v3 echoed any origin with credentials). `*` allows every
 * origin without credentials and cannot be combined with them. Requests from the
 * gateway's own origin (Origin matching the Host header, e.g. the dashboard) are allowed.
 *
 * A request whose Origin is not allowed is refused with a 403 (preflight or not): a
 * browser would still deliver a form post to the service even though the page could not
 * read the answer, so refusing it stops cross-site request forgery as well.
 */
export class Cors {
  readonly #origins: ReadonlySet<string>
  readonly #any: boolean
  readonly #credentials: boolean
  readonly #allowHeaders: string

  constructor(origins: readonly string[], credentials: boolean, metadataHeaders: readonly string[] = []) {
    const normalised = origins.map(normaliseOrigin)
    this.#any = normalised.includes('*')
    if (this.#any && credentials) {
      throw new TypeError('CORS: the origin * cannot be combined with credentials; list the origins instead')
    }
    this.#origins = new Set(normalised.filter((o) => o !== '*'))
    this.#credentials = credentials
    this.#allowHeaders = [...new Set([...BASE_HEADERS, ...metadataHeaders])].join(', ')
  }

  /** Whether a browser request from `origin` may proceed (the gateway's own origin always may). */
  allows(origin: string, req: IncomingMessage): boolean {
    if (this.#any) return true
    const o = normaliseOrigin(origin)
    return this.#origins.has(o) || isSameOrigin(o, req.headers.host)
  }

  /** Add the CORS headers of an allowed actual request. */
  apply(res: ServerResponse, origin: string): void {
    if (this.#any) {
      res.setHeader('access-control-allow-origin', '*')
      return
    }
    res.setHeader('access-control-allow-origin', origin)
    res.setHeader('vary', 'Origin')
    if (this.#credentials) res.setHeader('access-control-allow-credentials', 'true')
  }

  /** Answer a preflight (OPTIONS) from an allowed origin. */
  preflight(res: ServerResponse, origin: string): void {
    this.apply(res, origin)
    res.setHeader('access-control-allow-methods', METHODS)
    res.setHeader('access-control-allow-headers', this.#allowHeaders)
    res.setHeader('access-control-max-age', '600')
    res.writeHead(204).end()
  }
}

function normaliseOrigin(origin: string): string {
  const o = origin.trim().toLowerCase()
  return o.endsWith('/') ? o.slice(0, -1) : o
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false
  const h = host.toLowerCase()
  return origin === `http://${h}` || origin === `https://${h}`
}
