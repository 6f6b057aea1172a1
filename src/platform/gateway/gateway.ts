import { setMaxListeners } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import type { Duplex } from 'node:stream'
import type { WebSocketServer } from 'ws'
import { Client } from '../../client/client.js'
import type { CallOptions } from '../../client/options.js'
import {
  badRequest,
  MicroError,
  methodNotAllowed,
  newError,
  notFound,
  serviceUnavailable,
} from '../../errors/errors.js'
import { createLogger, type Logger } from '../../logger/logger.js'
import { RegistryCache } from '../../registry/cache.js'
import { createRegistry } from '../../registry/from-env.js'
import type { Registry } from '../../registry/registry.js'
import { createSelector } from '../../selector/from-name.js'
import { createTransport } from '../../transport/from-env.js'
import { readBody } from '../http/body.js'
import { sendError, sendJson } from '../http/reply.js'
import { type HttpPart, refuseUpgrade } from '../http/router.js'
import { Cors } from './cors.js'
import { metadataOf } from './metadata.js'
import { BuiltinGatewayMetrics, type GatewayMetrics } from './metrics.js'
import { type Authorize, type GatewayOptions, type GatewaySettings, gatewaySettings } from './options.js'
import { passthroughCodecs } from './passthrough.js'
import { buildPayload, type Payload } from './payload.js'
import { RateLimiter } from './rate-limit.js'
import { type Route, RouteCache } from './routes.js'
import { parseRpcEnvelope } from './rpc-envelope.js'
import { type ByteStream, serveEventStream, wantsEventStream } from './sse.js'
import { type EndpointEntry, Targets } from './targets.js'
import { bridgeWebSocket } from './websocket.js'

const ID = 'micro.gateway'
/** Length of `/api/`, the prefix the path rules do not see. */
const API_PREFIX = 5
const API_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
const ALLOW = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'

/**
 * The HTTP gateway: `/api/...` (Micro v3's path rules and `/api/{service}/{Handler.Method}`),
 * `POST /rpc`, WebSocket and SSE for streams, `/health/live`, `/health/ready` and
 * `/metrics`. It is an {@link HttpPart}: mount it on any node:http server (or serve it
 * alone with `serveGateway`); paths it does not own are left to the next part.
 */
export class Gateway implements HttpPart {
  readonly settings: GatewaySettings
  readonly metrics: GatewayMetrics
  readonly #registry: Registry
  readonly #ownsRegistry: boolean
  readonly #lookup: RegistryCache
  readonly #client: Client
  readonly #targets: Targets
  readonly #routes = new RouteCache()
  readonly #cors: Cors
  readonly #limiter: RateLimiter | undefined
  readonly #authorize: Authorize | undefined
  readonly #logger: Logger
  readonly #sockets = new Set<import('ws').WebSocket>()
  #wss: WebSocketServer | undefined
  #streams = 0
  #closing = false

  constructor(options: GatewayOptions = {}) {
    const s = gatewaySettings(options)
    this.settings = s
    this.#ownsRegistry = options.registry === undefined
    this.#registry =
      options.registry ?? createRegistry(process.env.MICRO_REGISTRY, process.env.MICRO_REGISTRY_ADDRESS)
    this.#lookup = new RegistryCache(this.#registry)
    this.#client = new Client({
      lookup: this.#lookup,
      transport:
        options.transport ??
        createTransport(process.env.MICRO_TRANSPORT, process.env.MICRO_TRANSPORT_ADDRESS),
      selector: options.selector ?? createSelector(process.env.MICRO_SELECTOR || undefined),
      codecs: passthroughCodecs,
      namespace: s.namespace,
      requestTimeout: s.requestTimeout,
      local: false,
      caller: 'micro.gateway',
    })
    this.#targets = new Targets(this.#lookup, s.namespace)
    this.#cors = new Cors(s.corsOrigins, s.corsCredentials, s.metadataHeaders)
    this.#limiter = s.rateLimit === false ? undefined : new RateLimiter(s.rateLimit)
    this.#authorize = options.authorize
    this.metrics = options.metrics ?? new BuiltinGatewayMetrics()
    this.#logger = options.logger ?? createLogger({ fields: { component: 'gateway' } })
  }

  /** Answer a request the gateway owns and return true; return false (untouched) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const query = q === -1 || q === url.length - 1 ? undefined : url.slice(q + 1)
    if (path.startsWith('/api/')) {
      if (this.#admit(req, res, API_METHODS)) void this.#api(req, res, path, query, performance.now())
    } else if (path === '/rpc') {
      if (this.#admit(req, res, RPC_METHODS)) void this.#rpc(req, res, performance.now())
    } else if (path === '/health/live') {
      sendJson(res, 200, '{"status":"ok"}')
    } else if (path === '/health/ready') {
      if (this.#closing) sendError(res, serviceUnavailable(ID, 'the gateway is shutting down'))
      else sendJson(res, 200, '{"status":"ok"}')
    } else if (path === '/metrics') {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' })
        .end(this.metrics.text())
    } else {
      return false
    }
    return true
  }

  /**
   * Take a WebSocket upgrade on an `/api/` path of a streaming endpoint: true when the
   * gateway took the socket (it answers every refusal itself), false for other paths.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (!path.startsWith('/api/')) return false
    socket.on('error', () => socket.destroy())
    const refusal = this.#upgradeRefusal(req)
    if (refusal !== undefined) {
      refuseUpgrade(socket, refusal.code, refusal.status, JSON.stringify(refusal))
      return true
    }
    void this.#openWebSocket(req, socket, head, path, q === -1 ? undefined : url.slice(q + 1))
    return true
  }

  /** Refuse new work, close every WebSocket, stop the registry watches (and the registry when the gateway made it). */
  async close(): Promise<void> {
    this.#closing = true
    for (const ws of this.#sockets) ws.close(1001, 'the gateway is shutting down')
    this.#wss?.close()
    await this.#client.close()
    if (this.#ownsRegistry) await this.#registry.close()
  }

  /** CORS, preflight, rate limit and method checks; false when the request was answered here. */
  #admit(req: IncomingMessage, res: ServerResponse, methods: ReadonlySet<string>): boolean {
    const origin = req.headers.origin
    if (origin !== undefined) {
      if (!this.#cors.allows(origin, req)) {
        this.#turnAway(req, res, newError(ID, `requests from origin ${origin} are not allowed`, 403))
        return false
      }
      if (req.method === 'OPTIONS') {
        this.#cors.preflight(res, origin)
        return false
      }
      this.#cors.apply(res, origin)
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { allow: ALLOW }).end()
      return false
    }
    if (this.#limiter !== undefined && !this.#limiter.take(req.socket.remoteAddress)) {
      const wait = this.#limiter.retryAfter(req.socket.remoteAddress)
      res.setHeader('retry-after', String(wait))
      this.#turnAway(req, res, newError(ID, `too many requests from this client; retry in ${wait} s`, 429))
      return false
    }
    if (!methods.has(req.method ?? '')) {
      res.setHeader('allow', req.url?.startsWith('/rpc') ? 'POST' : ALLOW)
      this.#turnAway(req, res, methodNotAllowed(ID, `${req.method} is not allowed here`))
      return false
    }
    return true
  }

  async #api(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: string | undefined,
    started: number,
  ) {
    let target: Route | undefined
    try {
      const route = this.#routes.get(path, API_PREFIX)
      if (route === undefined) throw notFound(ID, `no service route for ${path}`)
      const granted = this.#authorize === undefined ? undefined : await this.#authorized(req, route)
      const version = headerOf(req, 'micro-version')
      const found = this.#targets.find(route, version)
      const entry = found instanceof Promise ? await found : found
      target = route
      if (entry.stream) {
        await this.#eventStream(req, res, route, entry, query, version, granted)
        return
      }
      const payload = buildPayload(req.headers['content-type'], await this.#body(req), query)
      await this.#call(req, res, route, payload, version, granted, undefined)
    } catch (error) {
      this.#fail(req, res, error)
    } finally {
      this.#observe(target, res, started)
    }
  }

  async #rpc(req: IncomingMessage, res: ServerResponse, started: number) {
    let target: Route | undefined
    try {
      const envelope = parseRpcEnvelope(req.headers['content-type'], await this.#body(req))
      const route: Route = { service: envelope.service, endpoint: envelope.endpoint }
      const granted = this.#authorize === undefined ? undefined : await this.#authorized(req, route)
      const version = envelope.version ?? headerOf(req, 'micro-version')
      const found = this.#targets.find(route, version)
      const entry = found instanceof Promise ? await found : found
      target = route
      if (entry.stream) {
        throw badRequest(
          ID,
          `${route.endpoint} streams: open /api/${route.service}/${route.endpoint} as a WebSocket or SSE`,
        )
      }
      const payload = { body: envelope.request, contentType: 'application/json' }
      await this.#call(req, res, route, payload, version, granted, envelope.timeout)
    } catch (error) {
      this.#fail(req, res, error)
    } finally {
      this.#observe(target, res, started)
    }
  }

  /** Make the call and write the reply (204 when the service answered nothing). */
  async #call(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    payload: Payload,
    version: string | undefined,
    granted: Record<string, string> | undefined,
    timeout: number | undefined,
  ): Promise<void> {
    const options = this.#callOptions(
      req,
      version,
      granted,
      timeout,
      payload.contentType,
      connectionSignal(req),
    )
    const reply = (await this.#client.call(
      route.service,
      route.endpoint,
      payload.body,
      options,
    )) as Uint8Array
    if (reply.byteLength === 0) res.writeHead(204).end()
    else
      res
        .writeHead(200, { 'content-type': payload.contentType, 'content-length': reply.byteLength })
        .end(reply)
  }

  #callOptions(
    req: IncomingMessage,
    version: string | undefined,
    granted: Record<string, string> | undefined,
    timeout: number | undefined,
    contentType: string,
    signal: AbortSignal | undefined,
  ): CallOptions {
    const requested = timeout ?? timeoutOf(req)
    const options: CallOptions = {
      timeout:
        requested === undefined
          ? this.settings.requestTimeout
          : Math.min(requested, this.settings.requestTimeout),
      signal,
    }
    if (version !== undefined) options.version = version
    const metadata = metadataOf(req, this.settings.metadataHeaders)
    if (metadata !== undefined || granted !== undefined) options.metadata = { ...metadata, ...granted }
    if (contentType !== 'application/json') options.contentType = contentType
    return options
  }

  async #eventStream(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    _entry: EndpointEntry,
    query: string | undefined,
    version: string | undefined,
    granted: Record<string, string> | undefined,
  ): Promise<void> {
    if (!wantsEventStream(req)) {
      throw badRequest(
        ID,
        `${route.endpoint} streams: open it as a WebSocket, or ask for Server-Sent Events (Accept: text/event-stream)`,
      )
    }
    const payload = buildPayload(req.headers['content-type'], await this.#body(req), query)
    if (payload.contentType !== 'application/json')
      throw badRequest(ID, 'streams through the gateway carry JSON')
    if (this.#streams >= this.settings.maxStreams)
      throw serviceUnavailable(ID, 'too many streams are open; try again later')
    this.#streams++
    this.metrics.streams('sse', 1)
    try {
      const options = this.#callOptions(req, version, granted, undefined, payload.contentType, undefined)
      options.timeout = undefined
      const stream = this.#client.stream<Uint8Array, Uint8Array>(
        route.service,
        route.endpoint,
        options,
      ) as ByteStream
      await serveEventStream(stream, payload.body, res, this.settings.pingInterval)
    } finally {
      this.#streams--
      this.metrics.streams('sse', -1)
    }
  }

  #upgradeRefusal(req: IncomingMessage): MicroError | undefined {
    if (this.#closing) return serviceUnavailable(ID, 'the gateway is shutting down')
    const origin = req.headers.origin
    if (origin !== undefined && !this.#cors.allows(origin, req)) {
      return newError(ID, `WebSocket from origin ${origin} is not allowed`, 403)
    }
    if (this.#limiter !== undefined && !this.#limiter.take(req.socket.remoteAddress)) {
      return newError(ID, 'too many requests from this client', 429)
    }
    if (this.#streams >= this.settings.maxStreams) return serviceUnavailable(ID, 'too many streams are open')
    return undefined
  }

  async #openWebSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    path: string,
    query: string | undefined,
  ) {
    try {
      const route = this.#routes.get(path, API_PREFIX)
      if (route === undefined) throw notFound(ID, `no service route for ${path}`)
      if (query !== undefined)
        throw badRequest(ID, 'a WebSocket stream takes its request as the first message, not the query')
      const granted = this.#authorize === undefined ? undefined : await this.#authorized(req, route)
      const version = headerOf(req, 'micro-version')
      const entry = await this.#targets.find(route, version)
      if (!entry.stream) throw badRequest(ID, `${route.endpoint} does not stream: POST to it instead`)
      if (this.#streams >= this.settings.maxStreams) throw serviceUnavailable(ID, 'too many streams are open')
      if (socket.destroyed) return
      const options = this.#callOptions(req, version, granted, undefined, 'application/json', undefined)
      options.timeout = undefined
      // A handshake ws refuses (bad key or version) is answered by ws and never gets here.
      this.#webSockets().handleUpgrade(req, socket, head, (ws) => {
        this.#streams++
        this.metrics.streams('websocket', 1)
        this.#sockets.add(ws)
        bridgeWebSocket(
          ws,
          () =>
            this.#client.stream<Uint8Array, Uint8Array>(route.service, route.endpoint, options) as ByteStream,
          this.settings.pingInterval,
          () => {
            this.#sockets.delete(ws)
            this.#streams--
            this.metrics.streams('websocket', -1)
          },
        )
      })
    } catch (error) {
      const e = MicroError.from(error, ID)
      refuseUpgrade(
        socket,
        e.code >= 400 && e.code <= 599 ? e.code : 500,
        e.status || 'Error',
        JSON.stringify(e),
      )
    }
  }

  /** The WebSocket server, made on the first upgrade (ws is not loaded before). */
  #webSockets(): WebSocketServer {
    if (this.#wss === undefined) {
      const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof import('ws')
      this.#wss = new WebSocketServer({
        noServer: true,
        maxPayload: this.settings.wsMaxPayload,
        perMessageDeflate: false,
        // No subprotocol is chosen until auth defines one (the default would echo the first offered).
        handleProtocols: () => false,
      })
    }
    return this.#wss
  }

  async #authorized(req: IncomingMessage, route: Route): Promise<Record<string, string> | undefined> {
    const decision = await (this.#authorize as Authorize)(req, route)
    if (!decision.allow) throw newError(ID, decision.detail, decision.code)
    return decision.metadata
  }

  #body(req: IncomingMessage): Promise<Buffer> {
    return readBody(req, this.settings.maxBodySize, ID)
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const e = MicroError.from(error, ID)
    if (e.code === 500 && !(error instanceof MicroError))
      this.#logger.error('gateway request failed', { error })
    this.#refuse(req, res, e)
  }

  /** Answer with an error; a body left unread closes the connection rather than being read to the end. */
  #refuse(req: IncomingMessage, res: ServerResponse, error: MicroError): void {
    if (!req.complete) res.setHeader('connection', 'close')
    sendError(res, error)
  }

  /** Refuse a request before it reaches the pipeline (origin, rate limit, method), and count it. */
  #turnAway(req: IncomingMessage, res: ServerResponse, error: MicroError): void {
    this.#refuse(req, res, error)
    this.metrics.request('-', '-', res.statusCode, 0)
  }

  #observe(route: Route | undefined, res: ServerResponse, started: number): void {
    this.metrics.request(
      route?.service ?? '-',
      route?.endpoint ?? '-',
      res.statusCode,
      (performance.now() - started) / 1000,
    )
  }
}

const RPC_METHODS = new Set(['POST'])
const CONNECTION_SIGNAL = Symbol('micro.gateway.signal')

/**
 * A signal that aborts when the client's connection closes, shared by every call made for
 * requests on that connection: a client that goes away cancels what it asked for, and an
 * AbortController is made once per connection rather than once per request (making one
 * costs microseconds, a noticeable share of a gateway request).
 */
function connectionSignal(req: IncomingMessage): AbortSignal {
  const socket = req.socket as IncomingMessage['socket'] & { [CONNECTION_SIGNAL]?: AbortController }
  let controller = socket[CONNECTION_SIGNAL]
  if (controller === undefined) {
    const made = new AbortController()
    // Pipelined requests share it: more than 10 calls in flight on one connection is fine.
    setMaxListeners(1000, made.signal)
    controller = made
    socket[CONNECTION_SIGNAL] = made
    socket.once('close', () => made.abort())
  }
  return controller.signal
}

/** Build a gateway; see {@link GatewayOptions} for what it takes and the defaults. */
export function createGateway(options: GatewayOptions = {}): Gateway {
  return new Gateway(options)
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  if (typeof value !== 'string' || value === '') return undefined
  if (value.length > 128) throw badRequest(ID, `the ${name} header is too long`)
  return value
}

/** `Micro-Timeout` in ms (or Go Micro's `Timeout` in ns); undefined when absent or not a number. */
function timeoutOf(req: IncomingMessage): number | undefined {
  const ms = Number(req.headers['micro-timeout'])
  if (req.headers['micro-timeout'] !== undefined && Number.isFinite(ms) && ms > 0) return ms
  const ns = Number(req.headers.timeout)
  if (req.headers.timeout !== undefined && Number.isFinite(ns) && ns > 0) return ns / 1e6
  return undefined
}
