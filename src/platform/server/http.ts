import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Dashboard } from '../../dashboard/api/dashboard.js'
import { internalServerError, notFound } from '../../errors/errors.js'
import type { Gateway } from '../gateway/gateway.js'
import { sendError } from '../http/reply.js'
import { type HttpPart, HttpRouter, pathOf } from '../http/router.js'

/** A node:http handler that answers its own paths and returns false for the rest. */
export type PathHandler = (req: IncomingMessage, res: ServerResponse) => boolean

/** The parts of the platform's HTTP port; each is optional but the gateway. */
export interface PlatformHttpParts {
  gateway: Gateway
  /** `/`, `/index.html`, `/dashboard/*`. */
  dashboard?: Dashboard
  /** `POST /v1/traces` (OTLP/HTTP): `createOtlpReceiver(store)`. */
  traces?: HttpPart
  /** `GET /openapi.json`: `createOpenApiHandler(registry)`. */
  openapi?: HttpPart
  /** `GET /.well-known/jwks.json`: `jwksHandler(...)`. */
  jwks?: PathHandler
  /** `/mcp` (the MCP server, mounted by its own part); without it `/mcp` is a 404. */
  mcp?: HttpPart
  /** Anything else to try before the gateway, in order. */
  more?: HttpPart[]
}

/** The platform's HTTP side as one part: what `micro server` listens with, and what `micro run` mounts. */
export interface PlatformHttp extends HttpPart {
  readonly router: HttpRouter
  /** Cancel the dashboard's streams and close the gateway. */
  close(): Promise<void>
}

const DASHBOARD_PATHS = /^\/(?:index\.html|dashboard(?:\/.*)?)?$/

/**
 * The router of the platform's HTTP port, in the order the paths are tried: the JWKS,
 * OTLP traces, the OpenAPI document, `/mcp`, the dashboard (`/`, `/index.html`,
 * `/dashboard/*`), then the gateway (`/api/*`, `/rpc`, `/health/*`, `/metrics`, WebSocket
 * upgrades); anything else is a 404 error JSON. The dev loop (`micro run`) mounts the same
 * with its own sources: `platformHttp({ gateway, dashboard, traces, openapi })`.
 */
export function platformHttp(parts: PlatformHttpParts): PlatformHttp {
  const router = new HttpRouter()
  if (parts.jwks) {
    const jwks = parts.jwks
    router.use({ handle: (req, res) => jwks(req, res) })
  }
  if (parts.traces) router.use(parts.traces)
  if (parts.openapi) router.use(parts.openapi)
  if (parts.mcp) router.use(parts.mcp)
  for (const part of parts.more ?? []) router.use(part)
  if (parts.dashboard) router.use(dashboardPart(parts.dashboard))
  router.use(parts.gateway)
  return {
    router,
    handle: (req, res) => router.handle(req, res),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => router.upgrade(req, socket, head),
    async close() {
      parts.dashboard?.close()
      await parts.gateway.close()
    },
  }
}

/** The dashboard as a synchronous part: its paths are known up front, its answers are async. */
function dashboardPart(dashboard: Dashboard): HttpPart {
  return {
    handle(req, res) {
      if (!DASHBOARD_PATHS.test(pathOf(req.url))) return false
      dashboard.handle(req, res).then(
        (handled) => {
          if (!handled) sendError(res, notFound('micro.http', `nothing is served at ${pathOf(req.url)}`))
        },
        () => sendError(res, internalServerError('micro.http', 'the dashboard failed to answer')),
      )
      return true
    },
  }
}
