import { randomUUID } from 'node:crypto'
import {
  type AuthInfo,
  isInitializeRequest,
  type Server,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server'
import type { Logger } from '../logger/logger.js'
import type { McpEngine } from './engine.js'

/** Options of {@link LegacySessions}. */
export interface SessionOptions {
  /** Sessions at once; past it the longest-idle one without an open stream is closed. Default 1000. */
  maxSessions?: number
  /** A session idle this long (ms, no request and no open stream) is closed. Default 30 min. */
  idleTimeout?: number
  /** Largest POST body, bytes (the SDK checks it again). */
  maxBodySize: number
  logger?: Logger
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport
  server: Server
  /** Requests (and SSE streams) of the session being answered now. */
  open: number
  lastSeen: number
}

/** A JSON-RPC error answer with an HTTP status. */
export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

/**
 * The 2025-era Streamable HTTP serving (protocol 2025-11-25 and before): sessions with
 * `Mcp-Session-Id`, made by `initialize` and ended by DELETE or idleness, each with its SDK
 * transport and server. Sessions exist so a client's GET stream can hear
 * `notifications/tools/list_changed`; the 2026-07-28 path is stateless. Bounded: at most
 * `maxSessions`, and idle ones are closed.
 */
export class LegacySessions {
  readonly #engine: McpEngine
  readonly #sessions = new Map<string, Session>()
  readonly #max: number
  readonly #idle: number
  readonly #maxBodySize: number
  readonly #logger: Logger | undefined
  readonly #sweeper: NodeJS.Timeout

  constructor(engine: McpEngine, options: SessionOptions) {
    this.#engine = engine
    this.#max = options.maxSessions ?? 1000
    this.#idle = options.idleTimeout ?? 30 * 60_000
    this.#maxBodySize = options.maxBodySize
    this.#logger = options.logger
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#idle, 60_000))
    this.#sweeper.unref()
  }

  /** Sessions open now. */
  get size(): number {
    return this.#sessions.size
  }

  /** Answer one 2025-era request: a session's, or the `initialize` that makes one. */
  async handle(request: Request, parsedBody: unknown, authInfo: AuthInfo): Promise<Response> {
    const id = request.headers.get('mcp-session-id')
    if (id !== null) {
      const session = this.#sessions.get(id)
      if (session === undefined) return jsonRpcError(404, -32001, 'Session not found: initialize again')
      session.lastSeen = Date.now()
      const response = await session.transport.handleRequest(request, { parsedBody, authInfo })
      if (request.method === 'DELETE' && response.ok) this.#drop(id)
      return response
    }
    if (request.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      return jsonRpcError(400, -32000, 'Bad Request: no Mcp-Session-Id; start a session with initialize')
    }
    if (this.#sessions.size >= this.#max) this.#sweep(true)
    if (this.#sessions.size >= this.#max)
      return jsonRpcError(503, -32000, 'too many MCP sessions open; try again later', { 'retry-after': '5' })
    const server = this.#engine.server()
    const session: Session = { transport: undefined as never, server, open: 0, lastSeen: Date.now() }
    session.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: true,
      maxRequestBodySize: this.#maxBodySize,
      onsessioninitialized: (sessionId) => {
        this.#sessions.set(sessionId, session)
      },
      onsessionclosed: (sessionId) => {
        this.#sessions.delete(sessionId)
      },
    })
    await server.connect(session.transport)
    const response = await session.transport.handleRequest(request, { parsedBody, authInfo })
    const made = session.transport.sessionId
    if (made === undefined || this.#sessions.get(made) !== session) void server.close().catch(() => {})
    return response
  }

  /** Count a response of session `id` as open until the returned function runs. */
  hold(id: string): () => void {
    const session = this.#sessions.get(id)
    if (session === undefined) return () => {}
    session.open++
    session.lastSeen = Date.now()
    return () => {
      session.open--
      session.lastSeen = Date.now()
    }
  }

  /** Tell every session (on its GET stream, if the client opened one) that the tools changed. */
  notifyToolsChanged(): void {
    for (const session of this.#sessions.values()) {
      session.server.sendToolListChanged().catch((error: unknown) => {
        this.#logger?.debug('mcp: list_changed not sent', { error: (error as Error).message })
      })
    }
  }

  /** Close every session. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    const ids = [...this.#sessions.keys()]
    await Promise.all(ids.map((id) => this.#drop(id)))
  }

  /** Close idle sessions; with `full`, also the longest-idle one without an open response. */
  #sweep(full = false): void {
    const now = Date.now()
    let oldest: [string, Session] | undefined
    for (const [id, session] of this.#sessions) {
      if (session.open > 0) continue
      if (now - session.lastSeen > this.#idle) void this.#drop(id)
      else if (oldest === undefined || session.lastSeen < oldest[1].lastSeen) oldest = [id, session]
    }
    if (full && this.#sessions.size >= this.#max && oldest) void this.#drop(oldest[0])
  }

  async #drop(id: string): Promise<void> {
    const session = this.#sessions.get(id)
    if (session === undefined) return
    this.#sessions.delete(id)
    await session.server.close().catch(() => {})
  }
}
