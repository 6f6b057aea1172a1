import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { MicroError, newError, notFound } from '../../errors/errors.js'
import type { Logger } from '../../logger/logger.js'
import type { FetchHandler } from '../define.js'
import type { HttpMiddleware, NodeHandler } from '../extensions.js'
import type { Kind, KindContext, RunningKind } from '../kind.js'
import { applyCors } from './http-cors.js'
import { readBody, serveFetch, tooLarge } from './http-fetch.js'
import { type HttpSettings, readHttpSettings } from './http-settings.js'

type Handler = { fetch: FetchHandler } | { node: NodeHandler }

/**
 * The http kind: the definition's handler (fetch-style or node-style) on its own node:http
 * server. Around it: `GET /health`, routes added by features (`/metrics`...), CORS, the
 * base path (stripped), a body limit (413), a handler timeout (504), the features' HTTP
 * middleware, and a graceful stop that lets requests in flight finish.
 * Port: `http:8080` in types, else MICRO_HTTP_PORT, else 8080.
 */
export const httpKind: Kind<HttpSettings> = {
  name: 'http',
  port: { default: (env) => (env.MICRO_HTTP_PORT ? Number(env.MICRO_HTTP_PORT) : 8080) },
  configure: readHttpSettings,
  async start(ctx: KindContext<HttpSettings>): Promise<RunningKind> {
    const made = await ctx.factory(ctx.deps)
    const handler = asHandler(made)
    const { createServer } = await import('node:http')
    const front = new HttpFront(ctx, handler)
    const server = createServer({ requestTimeout: ctx.settings.requestTimeout }, (req, res) => {
      front.dispatch(req, res)
    })
    server.keepAliveTimeout = ctx.settings.idleTimeout
    await listen(server, ctx.port ?? 0, ctx.settings.host)
    const { port } = server.address() as { port: number }
    const address = `http://${ctx.settings.host.includes(':') ? `[${ctx.settings.host}]` : ctx.settings.host}:${port}`
    ctx.stack.advertiseHttp({ address, basePath: ctx.settings.basePath, routes: routesOf(made) })
    return {
      info: () => ({ address, basePath: ctx.settings.basePath }),
      async stop() {
        ctx.stack.advertiseHttp(undefined)
        await front.drain(server)
      },
    }
  },
}

/** Everything between the socket and the user's handler, for one server. */
class HttpFront {
  readonly #ctx: KindContext<HttpSettings>
  readonly #handler: Handler
  readonly #logger: Logger
  #inFlight = 0
  #draining = false
  #idle: (() => void) | undefined

  constructor(ctx: KindContext<HttpSettings>, handler: Handler) {
    this.#ctx = ctx
    this.#handler = handler
    this.#logger = ctx.deps.logger
  }

  dispatch(req: IncomingMessage, res: ServerResponse): void {
    this.#inFlight++
    res.once('close', () => {
      if (--this.#inFlight === 0) this.#idle?.()
    })
    if (this.#draining) res.setHeader('connection', 'close')
    this.#route(req, res).catch((error: unknown) => this.#fail(res, error))
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { settings, extensions } = this.#ctx
    const url = req.url ?? '/'
    const path = url.split('?', 1)[0] as string
    if (path === '/health') return this.#health(req, res)
    const route = extensions.httpRoutes.get(path)
    if (route) return void (await route(req, res))
    if (settings.cors && applyCors(settings.cors, req, res)) return
    const relative = stripBase(url, settings.basePath)
    if (relative === undefined) {
      throw notFound(this.#ctx.service.name, `${path} is outside the base path ${settings.basePath}`)
    }
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > settings.bodyLimit) {
      res.setHeader('connection', 'close')
      throw tooLarge(this.#ctx.service.name, settings.bodyLimit)
    }
    await compose(extensions.httpMiddleware, req, res, () => this.#invoke(req, res, relative))
  }

  /** Run the handler under the handler timeout; resolves when the response is done. */
  async #invoke(req: IncomingMessage, res: ServerResponse, relative: string): Promise<void> {
    const { settings, service } = this.#ctx
    const controller = new AbortController()
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the client closed the connection'))
    })
    // The timeout is for starting the answer: a response already streaming (SSE...) is left alone.
    const timer = setTimeout(() => {
      if (res.headersSent) return
      controller.abort(new Error('handler timeout'))
      this.#fail(
        res,
        newError(service.name, `the handler did not answer within ${settings.handlerTimeout} ms`, 504),
      )
    }, settings.handlerTimeout)
    timer.unref()
    try {
      if ('fetch' in this.#handler) {
        const body = await readBody(req, settings.bodyLimit, service.name)
        await serveFetch(this.#handler.fetch, req, res, relative, body, controller.signal)
      } else {
        req.url = relative
        const done = finished(res)
        await this.#handler.node(req, res)
        await done
      }
    } finally {
      clearTimeout(timer)
    }
  }

  async #health(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw newError(this.#ctx.service.name, `${req.method} /health is not allowed: use GET`, 405)
    }
    const report = this.#draining
      ? { status: 'unavailable', checks: {} }
      : await this.#ctx.extensions.health.report()
    res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' })
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(report))
  }

  #fail(res: ServerResponse, error: unknown): void {
    const e = MicroError.from(error, this.#ctx.service.name)
    if (!(error instanceof MicroError) && e.code >= 500) this.#logger.error('http handler failed', { error })
    if (res.headersSent) {
      res.destroy()
      return
    }
    res.writeHead(e.code >= 400 && e.code < 600 ? e.code : 500, { 'content-type': 'application/json' })
    res.end(JSON.stringify(e))
  }

  /** Stop taking connections, let requests in flight finish (bounded), then close. */
  async drain(server: Server): Promise<void> {
    this.#draining = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    if (this.#inFlight > 0) {
      const idle = new Promise<void>((resolve) => {
        this.#idle = resolve
      })
      const timeout = this.#ctx.settings.shutdownTimeout
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeout)
      })
      if (await Promise.race([idle.then(() => false), late])) {
        this.#logger.warn(
          `${this.#inFlight} http requests still in flight after ${timeout} ms; closing anyway`,
        )
      }
      clearTimeout(timer)
    }
    server.closeAllConnections()
    await closed
  }
}

/** The handler a factory returned, told apart by shape: `{ fetch }`, `{ node }`, or a function by arity. */
function asHandler(value: unknown): Handler {
  if (typeof value === 'function') {
    return value.length >= 2 ? { node: value as NodeHandler } : { fetch: value as FetchHandler }
  }
  if (typeof value === 'object' && value !== null) {
    const v = value as { fetch?: unknown; node?: unknown }
    if (typeof v.fetch === 'function') return { fetch: v.fetch.bind(value) as FetchHandler }
    if (typeof v.node === 'function') return { node: v.node as NodeHandler }
  }
  throw new TypeError(
    'the http factory must return a fetch-style handler (request) => Response, a node handler (req, res) => void, { fetch } or { node }',
  )
}

/** The routes an app lists (Hono's `app.routes`: `{ method, path }`), to advertise; none when it lists none. */
function routesOf(value: unknown): { method: string; path: string }[] | undefined {
  const routes = (value as { routes?: unknown } | null)?.routes
  if (!Array.isArray(routes)) return undefined
  return routes.filter(
    (r): r is { method: string; path: string } =>
      typeof r?.method === 'string' && typeof r?.path === 'string',
  )
}

/** The URL relative to the base path, or undefined when it is outside it. */
function stripBase(url: string, base: string): string | undefined {
  if (base === '/') return url
  if (url === base) return '/'
  if (url.startsWith(`${base}/`)) return url.slice(base.length)
  if (url.startsWith(`${base}?`)) return `/${url.slice(base.length)}`
  return undefined
}

function compose(
  middleware: readonly HttpMiddleware[],
  req: IncomingMessage,
  res: ServerResponse,
  last: () => Promise<void>,
): Promise<void> {
  const run = (i: number): Promise<void> => {
    const mw = middleware[i]
    return mw ? mw(req, res, () => run(i + 1)) : last()
  }
  return run(0)
}

function finished(res: ServerResponse): Promise<void> {
  if (res.writableFinished || res.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    res.once('finish', resolve)
    res.once('close', resolve)
  })
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}
