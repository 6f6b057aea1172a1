import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
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
import { registryFromEnv } from '../../registry/from-env.js'
import type { Registry } from '../../registry/registry.js'
import { createSelector } from '../../selector/from-name.js'
import { createTransport } from '../../transport/from-env.js'
import { readBody } from '../http/body.js'
import { sendError, sendJson } from '../http/reply.js'
import type { HttpPart } from '../http/router.js'
import { Cors } from './cors.js'
import { BuiltinGatewayMetrics, type GatewayMetrics } from './metrics.js'
import { type Authorize, type GatewayOptions, type GatewaySettings, gatewaySettings } from './options.js'
import { passthroughCodecs } from './passthrough.js'
import { buildPayload, type Payload } from './payload.js'
import { RateLimiter } from './rate-limit.js'
import { callOptionsOf, connectionSignal, headerOf, namespaceOf, StreamSlots } from './request-info.js'
import { type Route, RouteCache } from './routes.js'
import { parseRpcEnvelope } from './rpc-envelope.js'
import { type ByteStream, serveEventStream, wantsEventStream } from './sse.js'
import { Targets } from './targets.js'
import { originRefusal, WebSocketUpgrades } from './upgrades.js'

const ID = 'micro.gateway'
/** Length of `/api/`, the prefix the path rules do not see. */
const API_PREFIX = 5
const API_METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
const RPC_METHODS: ReadonlySet<string> = new Set(['POST'])
const ALLOW = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'

/** What a request may do once auth let it in: its namespace, and the metadata auth adds to its call. */
interface Admitted {
  namespace: string
  granted: Record<string, string> | undefined
}

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
  readonly #client: Client
  readonly #targets: Targets
  readonly #routes = new RouteCache()
  readonly #cors: Cors
  readonly #limiter: RateLimiter | undefined
  readonly #authorize: Authorize | undefined
  readonly #logger: Logger
  readonly #upgrades: WebSocketUpgrades
  readonly #slots: StreamSlots
  #closing = false

  constructor(options: GatewayOptions = {}) {
    const s = gatewaySettings(options)
    this.settings = s
    this.#slots = new StreamSlots(s.maxStreams)
    this.#ownsRegistry = options.registry === undefined
    this.#registry = options.registry ?? registryFromEnv(process.env)
    const lookup = new RegistryCache(this.#registry)
    this.#client = new Client({
      lookup,
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
    this.#targets = new Targets(lookup)
    this.#cors = new Cors(s.corsOrigins, s.corsCredentials, s.metadataHeaders)
    this.#limiter = s.rateLimit === false ? undefined : new RateLimiter(s.rateLimit)
    this.#authorize = options.authorize
    this.metrics = options.metrics ?? new BuiltinGatewayMetrics()
    this.#logger = options.logger ?? createLogger({ fields: { component: 'gateway' } })
    this.#upgrades = new WebSocketUpgrades({
      settings: s,
      metrics: this.metrics,
      slots: this.#slots,
      isClosing: () => this.#closing,
      screen: (req) => this.#screen(req),
      resolveStream: (req, path, query) => this.#resolveStream(req, path, query),
      open: (route, options) => this.#open(route, options),
    })
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
   * Take a WebSocket upgrade on an `/api/` path (a streaming endpoint): true when the gateway
   * took the socket (it answers every refusal itself), false for other paths.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    if (!path.startsWith('/api/')) return false
    this.#upgrades.handle(req, socket, head, path, q === -1 ? undefined : url.slice(q + 1))
    return true
  }

  /** Refuse new work, close every WebSocket, stop the registry watches (and the registry when the gateway made it). */
  async close(): Promise<void> {
    this.#closing = true
    this.#upgrades.close()
    await this.#client.close()
    if (this.#ownsRegistry) await this.#registry.close()
  }

  /** The Origin and rate-limit checks every request passes; the refusal, if any. */
  #screen(req: IncomingMessage): MicroError | undefined {
    const origin = req.headers.origin
    if (origin !== undefined && !this.#cors.allows(origin, req)) return originRefusal(origin)
    if (this.#limiter !== undefined && !this.#limiter.take(req.socket.remoteAddress)) {
      const wait = this.#limiter.retryAfter(req.socket.remoteAddress)
      return newError(ID, `too many requests from this client; retry in ${wait} s`, 429)
    }
    return undefined
  }

  /** Route, auth and registry checks of a WebSocket stream, and its call options. */
  async #resolveStream(
    req: IncomingMessage,
    path: string,
    query: string | undefined,
  ): Promise<{ route: Route; options: CallOptions }> {
    const route = this.#routes.get(path, API_PREFIX)
    if (route === undefined) throw notFound(ID, `no service route for ${path}`)
    if (query !== undefined) {
      throw badRequest(ID, 'a WebSocket stream takes its request as the first message, not the query')
    }
    const { namespace, granted } = await this.#admitted(req, route)
    const version = headerOf(req, 'micro-version')
    const entry = await this.#targets.find(route, version, namespace)
    if (!entry.stream) throw badRequest(ID, `${route.endpoint} does not stream: POST to it instead`)
    const shape = {
      namespace,
      version,
      granted,
      timeout: undefined,
      contentType: 'application/json',
      signal: undefined,
    }
    return { route, options: callOptionsOf(req, this.settings, { ...shape, stream: true }) }
  }

  /** A byte stream to a service endpoint. */
  #open(route: Route, options: CallOptions): ByteStream {
    return this.#client.stream<Uint8Array, Uint8Array>(route.service, route.endpoint, options) as ByteStream
  }

  /** Screening, preflight and method checks; false when the request was answered here. */
  #admit(req: IncomingMessage, res: ServerResponse, methods: ReadonlySet<string>): boolean {
    const origin = req.headers.origin
    if (origin !== undefined && req.method === 'OPTIONS' && this.#cors.allows(origin, req)) {
      this.#cors.preflight(res, origin)
      return false
    }
    const refusal = this.#screen(req)
    if (refusal !== undefined) {
      if (refusal.code === 429)
        res.setHeader('retry-after', String(this.#limiter?.retryAfter(req.socket.remoteAddress)))
      this.#turnAway(req, res, refusal)
      return false
    }
    if (origin !== undefined) this.#cors.apply(res, origin)
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { allow: ALLOW }).end()
      return false
    }
    if (!methods.has(req.method ?? '')) {
      res.setHeader('allow', methods === RPC_METHODS ? 'POST' : ALLOW)
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
      const admitting = this.#admitted(req, route)
      const admitted = admitting instanceof Promise ? await admitting : admitting
      const version = headerOf(req, 'micro-version')
      const found = this.#targets.find(route, version, admitted.namespace)
      const entry = found instanceof Promise ? await found : found
      target = route
      const payload = buildPayload(req.headers['content-type'], await this.#body(req), query)
      if (entry.stream) await this.#eventStream(req, res, route, payload, version, admitted)
      else
        reply(res, await this.#call(req, route, payload, version, admitted, undefined), payload.contentType)
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
      const admitting = this.#admitted(req, route)
      const admitted = admitting instanceof Promise ? await admitting : admitting
      const version = envelope.version ?? headerOf(req, 'micro-version')
      const found = this.#targets.find(route, version, admitted.namespace)
      const entry = found instanceof Promise ? await found : found
      target = route
      if (entry.stream) {
        throw badRequest(
          ID,
          `${route.endpoint} streams: open /api/${route.service}/${route.endpoint} as a WebSocket or SSE`,
        )
      }
      const payload = { body: envelope.request, contentType: 'application/json' }
      reply(
        res,
        await this.#call(req, route, payload, version, admitted, envelope.timeout),
        payload.contentType,
      )
    } catch (error) {
      this.#fail(req, res, error)
    } finally {
      this.#observe(target, res, started)
    }
  }

  /** Make the call for a request; resolves with the reply bytes. */
  #call(
    req: IncomingMessage,
    route: Route,
    payload: Payload,
    version: string | undefined,
    admitted: Admitted,
    timeout: number | undefined,
  ): Promise<Uint8Array> {
    const { contentType } = payload
    const signal = connectionSignal(req)
    const options = callOptionsOf(req, this.settings, {
      namespace: admitted.namespace,
      version,
      granted: admitted.granted,
      timeout,
      contentType,
      signal,
      stream: false,
    })
    return this.#client.call<Uint8Array>(route.service, route.endpoint, payload.body, options)
  }

  /** A server stream as Server-Sent Events, when the request asks for them. */
  async #eventStream(
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    payload: Payload,
    version: string | undefined,
    admitted: Admitted,
  ): Promise<void> {
    if (!wantsEventStream(req)) {
      throw badRequest(
        ID,
        `${route.endpoint} streams: open it as a WebSocket, or ask for Server-Sent Events (Accept: text/event-stream)`,
      )
    }
    if (payload.contentType !== 'application/json')
      throw badRequest(ID, 'streams through the gateway carry JSON')
    if (!this.#slots.take()) throw serviceUnavailable(ID, 'too many streams are open; try again later')
    this.metrics.streams('sse', 1)
    try {
      const shape = {
        namespace: admitted.namespace,
        version,
        granted: admitted.granted,
        timeout: undefined,
        contentType: payload.contentType,
        signal: undefined,
      }
      const stream = this.#open(route, callOptionsOf(req, this.settings, { ...shape, stream: true }))
      await serveEventStream(stream, payload.body, res, this.settings.pingInterval)
    } finally {
      this.#slots.release()
      this.metrics.streams('sse', -1)
    }
  }

  /**
   * The request's namespace and what auth grants it: `Micro-Namespace` when given (a 400
   * for a bad name), else the auth hook's pick (the token's namespace), else the gateway's.
   * Answers synchronously when there is no auth hook.
   */
  #admitted(req: IncomingMessage, route: Route): Admitted | Promise<Admitted> {
    const named = namespaceOf(req)
    const authorize = this.#authorize
    if (authorize === undefined) return { namespace: named ?? this.settings.namespace, granted: undefined }
    return this.#authorized(authorize, req, route, named)
  }

  async #authorized(
    authorize: Authorize,
    req: IncomingMessage,
    route: Route,
    named: string | undefined,
  ): Promise<Admitted> {
    const decision = await authorize(req, route, named)
    if (!decision.allow) throw newError(ID, decision.detail, decision.code)
    // The hook checked the caller against the named namespace: it cannot serve another.
    return { namespace: named ?? decision.namespace ?? this.settings.namespace, granted: decision.metadata }
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
    const seconds = (performance.now() - started) / 1000
    this.metrics.request(route?.service ?? '-', route?.endpoint ?? '-', res.statusCode, seconds)
  }
}

/** Write a service's reply: its bytes with the content type they came in, or a 204 when it answered nothing. */
function reply(res: ServerResponse, body: Uint8Array, contentType: string): void {
  if (body.byteLength === 0) res.writeHead(204).end()
  else res.writeHead(200, { 'content-type': contentType, 'content-length': body.byteLength }).end(body)
}

/** Build a gateway; see {@link GatewayOptions} for what it takes and the defaults. */
export function createGateway(options: GatewayOptions = {}): Gateway {
  return new Gateway(options)
}
