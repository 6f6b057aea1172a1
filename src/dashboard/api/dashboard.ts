import type { IncomingMessage, ServerResponse } from 'node:http'
import { forbidden, methodNotAllowed, notFound } from '../../errors/errors.js'
import { DEFAULT_NAMESPACE } from '../../registry/registry.js'
import type { DashboardSources } from '../sources.js'
import { assertSameOrigin, type DashboardAuth, LoginThrottle, loginRequired, requestToken } from './auth.js'
import { type StreamLimits, StreamSessions } from './calls.js'
import { CatalogView } from './catalog.js'
import { DASHBOARD_ID, sendError, sendJson } from './http.js'
import { bodyReader, checkNamespace, HANDLED, type Route, Router, readOnlyError } from './router.js'
import { authRoutes } from './routes-auth.js'
import { dataRoutes } from './routes-data.js'
import { observeRoutes } from './routes-observe.js'
import { serviceRoutes } from './routes-services.js'
import { sessionRoutes } from './routes-session.js'
import { NOT_BUILT_PAGE, StaticAssets } from './static.js'
import type { Identity } from './types.js'

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The namespace pages show unless they name another. Default `micro`. */
  namespace?: string
  /** Refuse every change (403) and hide changes in the UI: for production. */
  readOnly?: boolean
  /** The gateway's authorizer; without it the dashboard is open (fine on loopback only). */
  auth?: DashboardAuth
  /** The built UI's folder. Default: this package's `dist/dashboard`. */
  assets?: string
  /** Shown in the UI. */
  version?: string
  /** Largest request body, bytes. Default 1 MiB. */
  maxBody?: number
  streams?: StreamLimits
}

/** The dashboard as a node:http handler: `handle` answers what it owns and returns false for the rest. */
export interface Dashboard {
  /** Answers `/`, `/index.html` and `/dashboard/...`; resolves false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>
  /** Cancel the explorer's open streams. */
  close(): void
}

const API = '/dashboard/api'

/**
 * The web dashboard: the built UI and its JSON + SSE API under `/dashboard/api`, over the
 * sources given (a page whose source is missing is hidden, and its routes answer 503).
 * Mount it next to the gateway: it owns `/`, `/index.html` and `/dashboard/*` only.
 */
export function createDashboard(sources: DashboardSources, options: DashboardOptions = {}): Dashboard {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE
  const maxBody = options.maxBody ?? 1 << 20
  const assets = new StaticAssets(options.assets)
  const streams = new StreamSessions(options.streams)
  const throttle = new LoginThrottle()
  const catalog = new CatalogView(sources.registry, sources.runtime)
  const auth = options.auth
  const tokenOf = (ctx: { req: IncomingMessage }) => (auth ? requestToken(ctx.req) : undefined)
  const router = new Router().add(
    ...sessionRoutes({ sources, options: { ...options, namespace }, throttle }),
    ...serviceRoutes({ catalog, streams, tokenOf }),
    ...observeRoutes(),
    ...dataRoutes(),
    ...authRoutes(),
  )

  async function identify(req: IncomingMessage): Promise<Identity | undefined> {
    if (!auth) return undefined
    const token = requestToken(req)
    if (!token) return undefined
    try {
      return (await auth.verify(token)) ?? undefined
    } catch {
      return undefined
    }
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const found = router.match(
      req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET'),
      url.pathname.slice(API.length),
    )
    if (found === undefined) throw notFound(DASHBOARD_ID, `no route ${url.pathname}`)
    if (found === 'method')
      throw methodNotAllowed(DASHBOARD_ID, `${req.method} is not allowed on ${url.pathname}`)
    const route: Route = found.route
    const identity = await identify(req)
    if (auth && !identity && !route.public) throw loginRequired()
    if (route.mutates) {
      if (options.readOnly) throw readOnlyError()
      assertSameOrigin(req)
    }
    if (route.admin && auth && !identity?.admin) throw forbidden(DASHBOARD_ID, 'only an admin may do this')
    const body = bodyReader(req, maxBody)
    let ns = url.searchParams.get('namespace') ?? undefined
    if (ns === undefined && (req.method === 'POST' || req.method === 'PUT')) {
      const given = (await body()).namespace
      if (typeof given === 'string' && given !== '') ns = given
    }
    const chosen = checkNamespace(ns ?? namespace)
    if (identity && auth?.authorize && !route.public)
      await auth.authorize(identity, chosen, { path: route.path, mutates: route.mutates === true })
    const result = await route.handler({
      req,
      res,
      params: found.params,
      query: url.searchParams,
      namespace: chosen,
      identity,
      authEnabled: auth !== undefined,
      sources,
      body,
    })
    if (result !== HANDLED) sendJson(res, result)
  }

  return {
    async handle(req, res) {
      let url: URL
      try {
        url = new URL(req.url ?? '/', 'http://dashboard')
      } catch {
        return false
      }
      const path = url.pathname
      if (path.startsWith(`${API}/`)) {
        try {
          await api(req, res, url)
        } catch (error) {
          sendError(res, error)
        }
        return true
      }
      if (path !== '/' && path !== '/index.html' && path !== '/dashboard' && !path.startsWith('/dashboard/'))
        return false
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendError(res, methodNotAllowed(DASHBOARD_ID, `${req.method} is not allowed on ${path}`))
        return true
      }
      const name = path.startsWith('/dashboard/assets/') ? path.slice('/dashboard/'.length) : 'index.html'
      if (assets.serve(req, res, name)) return true
      if (name === 'index.html') {
        res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        res.end(NOT_BUILT_PAGE)
      } else sendError(res, notFound(DASHBOARD_ID, `no asset ${path}`))
      return true
    },
    close: () => streams.closeAll(),
  }
}

export type { DashboardAuth } from './auth.js'
