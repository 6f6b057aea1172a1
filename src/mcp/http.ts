import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type AuthInfo,
  createMcpHandler,
  isJsonContentType,
  isLegacyRequest,
  type McpHttpHandler,
} from '@modelcontextprotocol/server'
import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { RateLimiter, type RateLimitOptions } from '../platform/gateway/rate-limit.js'
import { readBody } from '../platform/http/body.js'
import type { McpIdentity } from './access.js'
import { IDENTITY_KEY, type McpEngine } from './engine.js'
import { webRequest, writeResponse } from './node-web.js'
import { refuseForeign } from './origin.js'
import { jsonRpcError, LegacySessions } from './sessions.js'

/** Options of {@link createMcpHttpHandler}. */
export interface McpHttpOptions {
  /** Where MCP is served. Default `/mcp`. */
  path?: string
  /**
   * Origins (`https://app.example.com`) allowed besides the request's own. Default none:
   * a browser page of another origin is refused (403), as the MCP spec asks of servers.
   */
  allowedOrigins?: readonly string[]
  /**
   * Host names accepted besides loopback names on a loopback connection (DNS rebinding
   * protection); on other interfaces, when set, only these.
   */
  allowedHosts?: readonly string[]
  /** Largest POST body, bytes. Default 1 MiB (the gateway's). */
  maxBodySize?: number
  /** Per-client (address) request rate, or false. Default 100/s, bursts of 200. */
  rateLimit?: RateLimitOptions | false
  /** 2025-era sessions open at once. Default 1000. */
  maxSessions?: number
  /** Close a 2025-era session idle this long, ms. Default 30 min. */
  sessionIdleTimeout?: number
  logger?: Logger
}

/** The `/mcp` part of the platform's HTTP server (an `HttpPart` for the router). */
export interface McpHttp {
  /** Answer requests to the MCP path (true); false, untouched, for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean
  /** Sessions of 2025-era clients open now. */
  readonly sessions: number
  /** Close every session and stop answering. */
  close(): Promise<void>
}

const ALLOWED_METHODS = 'GET, POST, DELETE'

/**
 * MCP over Streamable HTTP at `/mcp`. Requests carrying the 2026-07-28 envelope are served
 * stateless (any replica can take any request; `subscriptions/listen` carries
 * `tools/list_changed`); 2025-era requests (2025-11-25 and before) get sessions with
 * `Mcp-Session-Id`, whose GET stream carries it. Before anything reaches the SDK: Host and
 * Origin are checked (DNS rebinding), the client's request rate, the method, the content
 * type, the body size, the JSON, and the bearer token (401 for a bad one).
 */
export function createMcpHttpHandler(engine: McpEngine, options: McpHttpOptions = {}): McpHttp {
  const path = options.path ?? '/mcp'
  const maxBodySize = options.maxBodySize ?? 1024 * 1024
  const allowedOrigins = options.allowedOrigins ?? []
  const allowedHosts = options.allowedHosts
  const limiter =
    options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? { rate: 100, burst: 200 })
  const logger = options.logger
  const report = (error: Error) => logger?.debug('mcp: request refused by the SDK', { error: error.message })
  const modern: McpHttpHandler = createMcpHandler(() => engine.server(), {
    legacy: 'reject',
    maxRequestBodySize: maxBodySize,
    onerror: report,
  })
  const sessions = new LegacySessions(engine, {
    maxSessions: options.maxSessions,
    idleTimeout: options.sessionIdleTimeout,
    maxBodySize,
    logger,
  })
  const unsubscribe = engine.onToolsChanged(() => {
    modern.notify.toolsChanged()
    sessions.notifyToolsChanged()
  })

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = refuseForeign(req, allowedHosts, allowedOrigins)
    if (refusal !== undefined) return send(res, jsonRpcError(403, -32000, `Forbidden: ${refusal}`))
    if (limiter && !limiter.take(req.socket.remoteAddress)) {
      const wait = String(limiter.retryAfter(req.socket.remoteAddress))
      return send(res, jsonRpcError(429, -32000, 'Too many requests', { 'retry-after': wait }))
    }
    const method = req.method ?? 'GET'
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE')
      return send(res, jsonRpcError(405, -32000, `Method ${method} not allowed`, { allow: ALLOWED_METHODS }))
    let body: Buffer | undefined
    let parsed: unknown
    if (method === 'POST') {
      if (!isJsonContentType(req.headers['content-type'] ?? ''))
        return send(res, jsonRpcError(415, -32000, 'Unsupported Media Type: send application/json'))
      try {
        body = await readBody(req, maxBodySize, 'micro.mcp')
      } catch (error) {
        const e = MicroError.from(error, 'micro.mcp')
        res.shouldKeepAlive = false
        return send(res, jsonRpcError(e.code, -32600, e.detail, { connection: 'close' }))
      }
      try {
        parsed = JSON.parse(body.toString('utf8'))
      } catch (error) {
        return send(res, jsonRpcError(400, -32700, `Parse error: ${(error as Error).message}`))
      }
    }
    const identity: McpIdentity = { transport: 'http', address: req.socket.remoteAddress }
    if (req.headers.authorization !== undefined) identity.authorization = req.headers.authorization
    const denied = await engine.access.authenticate(identity)
    if (denied !== undefined) {
      return send(
        res,
        jsonRpcError(401, -32001, denied.error.detail, { 'www-authenticate': denied.challenge }),
      )
    }
    const authInfo: AuthInfo = {
      token: '',
      clientId: 'micro',
      scopes: [],
      extra: { [IDENTITY_KEY]: identity },
    }
    const abort = new AbortController()
    res.once('close', () => abort.abort())
    const request = webRequest(req, body, abort.signal)
    const legacy = await isLegacyRequest(request, parsed, { maxRequestBodySize: maxBodySize })
    const response = legacy
      ? await sessions.handle(request, parsed, authInfo)
      : await modern.fetch(request, { authInfo, parsedBody: parsed })
    const id = request.headers.get('mcp-session-id') ?? response.headers.get('mcp-session-id')
    const release = legacy && id ? sessions.hold(id) : () => {}
    try {
      await writeResponse(response, res)
    } finally {
      release()
    }
  }

  return {
    handle(req, res) {
      const url = req.url ?? '/'
      const query = url.indexOf('?')
      if ((query < 0 ? url : url.slice(0, query)) !== path) return false
      serve(req, res).catch((error: unknown) => {
        logger?.error('mcp: request failed', { error: (error as Error).message })
        if (res.headersSent) res.destroy()
        else void send(res, jsonRpcError(500, -32603, 'Internal error'))
      })
      return true
    },
    get sessions() {
      return sessions.size
    },
    async close() {
      unsubscribe()
      await modern.close()
      await sessions.close()
    },
  }
}

function send(res: ServerResponse, response: Response): Promise<void> {
  return writeResponse(response, res)
}
