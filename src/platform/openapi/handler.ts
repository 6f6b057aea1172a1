import type { IncomingMessage, ServerResponse } from 'node:http'
import { MicroError } from '../../errors/errors.js'
import { type OpenApiOptions, openApiDocument, type ServiceSource } from './document.js'

/** A node:http request handler for one path, as the platform server mounts its parts. */
export interface OpenApiHandler {
  /** Answer `req` when it is for the document's path (true); otherwise leave it (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean
}

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of what the registry holds now (built per
 * request, so a service that just started is in it). `?service=<name>` narrows it to one
 * service. A registry that fails answers 503 with the error JSON.
 */
export function createOpenApiHandler(
  source: ServiceSource,
  options: OpenApiOptions & { path?: string } = {},
): OpenApiHandler {
  const path = options.path ?? '/openapi.json'
  const serve = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(res, 405, {
        id: 'micro.openapi',
        code: 405,
        detail: 'GET the document',
        status: 'Method Not Allowed',
      })
    }
    const service = url.searchParams.get('service') ?? undefined
    try {
      const document = await openApiDocument(source, { ...options, ...(service ? { service } : {}) })
      send(res, 200, document, req.method === 'HEAD')
    } catch (error) {
      const e = MicroError.from(error, 'micro.openapi')
      // Asked for one service that is not registered: that is a 404, as the registry says.
      const code = e.code === 404 && service ? 404 : 503
      send(res, code, {
        id: 'micro.openapi',
        code,
        detail: e.toJSON().detail,
        status: code === 404 ? 'Not Found' : 'Service Unavailable',
      })
    }
  }
  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (url.pathname !== path) return false
      req.resume()
      void serve(req, res, url)
      return true
    },
  }
}

function send(res: ServerResponse, status: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(headOnly ? undefined : text)
}
