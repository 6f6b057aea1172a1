import {
  type CallToolResult,
  CLIENT_INFO_META_KEY,
  type ListToolsResult,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server'
import type { Logger } from '../logger/logger.js'
import { type AccessDecision, type McpIdentity, openAccess, type ToolAccess } from './access.js'
import { type AuditSink, logAudit } from './audit.js'
import { type CatalogueOptions, ToolCatalogue } from './catalogue.js'
import { devTools } from './dev-tools.js'
import { invokeTool } from './invoke.js'
import { ToolLimiter, type ToolRateLimits } from './limits.js'
import { platformTools } from './platform-tools.js'
import type { CallSource, DevSources, PlatformSources, ServiceSource } from './sources.js'
import type { ToolEntry } from './tools.js'

/** Options of {@link McpEngine}: where tools come from, how they call, who may call them. */
export interface McpOptions {
  /** The services whose endpoints become tools. */
  services: ServiceSource
  /** How endpoint tools call (a Client, a CLI session). */
  client: CallSource
  /** The namespace served. Default `micro`. */
  namespace?: string
  /**
   * The per-tool access check. Default: none verified, so every tool that needs a scope is
   * refused (pass `authorizerAccess(authorizer)` on a server, `forwardedAccess` for stdio).
   */
  access?: ToolAccess
  /** Where audit records go. Default: one log line per call on `logger`. */
  audit?: AuditSink
  /** Per-tool rate limits. Default 100 calls a second, bursts of 200, per tool. */
  rateLimits?: ToolRateLimits
  /**
   * The admin-only platform tools (`micro_registry_list`, `micro_store_read`,
   * `micro_broker_publish`) over these blocks. Off unless given.
   */
  platform?: PlatformSources
  /** The developer tools (`micro mcp serve --dev`) over these sources. Off unless given. */
  dev?: DevSources
  /** More built-in tools, served after the endpoints'. */
  builtins?: readonly ToolEntry[]
  /** Which endpoints become tools (default: unary endpoints of every service but `platform`). */
  include?: CatalogueOptions['include']
  /** Deadline of a tool's call, ms. Default 30 s. */
  timeout?: number
  /** Tools per `tools/list` page. Default 1000. */
  pageSize?: number
  /** How often the service list is read again besides watch events, ms. */
  pollInterval?: number
  /** The server's name and version in `initialize` / `server/discover`. */
  serverInfo?: { name: string; version: string }
  logger?: Logger
}

const INSTRUCTIONS =
  'Each tool calls one endpoint of a micro service: <service>_<Handler>_<Method> calls Handler.Method ' +
  'of that service with the arguments as its JSON request, and answers with its JSON reply. A failed ' +
  'call is an isError result carrying the error JSON {id, code, detail, status}: code is an HTTP ' +
  'status (400 bad request, 401/403 auth, 404 unknown, 408 deadline, 429 rate limited, 503 unavailable).'

/**
 * The MCP server's engine, one per process and shared by its transports: the tool
 * catalogue, the per-tool access check, rate limits, audit and spans, and the SDK `Server`
 * instances it makes for each serving unit (an HTTP request or session, a stdio connection).
 */
export class McpEngine {
  readonly catalogue: ToolCatalogue
  readonly #options: McpOptions
  readonly #access: ToolAccess
  readonly #audit: AuditSink
  readonly #limiter: ToolLimiter
  readonly #namespace: string

  constructor(options: McpOptions) {
    this.#options = options
    this.#namespace = options.namespace ?? 'micro'
    this.#access = options.access ?? openAccess
    this.#audit = options.audit ?? (options.logger ? logAudit(options.logger) : { record() {} })
    this.#limiter = new ToolLimiter(options.rateLimits)
    this.catalogue = new ToolCatalogue({
      namespace: this.#namespace,
      services: options.services,
      client: options.client,
      builtins: [
        ...(options.dev ? devTools(options.services, options.client, options.dev) : []),
        ...(options.platform ? platformTools(options.services, options.platform) : []),
        ...(options.builtins ?? []),
      ],
      include: options.include,
      pollInterval: options.pollInterval,
      logger: options.logger,
    })
  }

  /** The namespace whose services are the tools. */
  get namespace(): string {
    return this.#namespace
  }

  /** Who may call which tools. */
  get access(): ToolAccess {
    return this.#access
  }

  /** Load the tools and follow the registry. */
  start(): Promise<void> {
    return this.catalogue.start()
  }

  /** Stop following the registry. */
  close(): void {
    this.catalogue.close()
  }

  /** Hear when the tools change (to send `notifications/tools/list_changed`). */
  onToolsChanged(listener: () => void): () => void {
    return this.catalogue.onChange(listener)
  }

  /** One page of `tools/list`; the cursor is the offset of the next page. */
  listTools(cursor?: string): ListToolsResult {
    const tools = this.catalogue.tools()
    const size = this.#options.pageSize ?? 1000
    let offset = 0
    if (cursor !== undefined) {
      offset = /^\d{1,9}$/.test(cursor) ? Number(cursor) : Number.NaN
      if (!(offset <= tools.length))
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'invalid cursor')
    }
    const page: ListToolsResult = { tools: tools.slice(offset, offset + size).map((t) => t.tool) }
    if (offset + size < tools.length) page.nextCursor = String(offset + size)
    return page
  }

  /**
   * A new SDK server answering `tools/list` and `tools/call` from this engine. Over HTTP the
   * caller is read per request from the transport's auth info (see `identityInfo`); stdio
   * passes its one caller as `identity`.
   */
  server(identity?: McpIdentity): Server {
    const info = this.#options.serverInfo ?? { name: 'micro', version: '1' }
    const server = new Server(info, {
      capabilities: { tools: { listChanged: true } },
      instructions: INSTRUCTIONS,
    })
    server.setRequestHandler('tools/list', (request) => this.listTools(request.params?.cursor))
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const caller = identity ?? identityOf(ctx)
      if (caller === undefined) throw new ProtocolError(ProtocolErrorCode.InternalError, 'no caller identity')
      const entry = this.catalogue.get(request.params.name)
      const result = await this.call(request.params.name, request.params.arguments, caller, {
        signal: ctx.mcpReq.signal,
        meta: ctx.mcpReq._meta as Record<string, unknown> | undefined,
        client: clientOf(server, ctx),
      })
      return server.projectCallToolResult(result, entry?.tool.outputSchema)
    })
    return server
  }

  /**
   * Call a tool for `identity`: look it up (unknown: a JSON-RPC invalid-params error), take
   * a rate-limit token, check access, run it in a span, audit it. Refusals and failures are
   * `isError` results carrying the error JSON.
   */
  call(
    name: string,
    args: unknown,
    identity: McpIdentity,
    context: { signal: AbortSignal; meta?: Record<string, unknown>; client?: string },
  ): Promise<CallToolResult> {
    return invokeTool(
      {
        entry: this.catalogue.get(name),
        name,
        args,
        identity,
        signal: context.signal,
        meta: context.meta,
        client: context.client,
      },
      {
        namespace: this.#namespace,
        timeout: this.#options.timeout ?? 30_000,
        limiter: this.#limiter,
        audit: this.#audit,
        check: (target): Promise<AccessDecision> => this.#access.check(identity, target, this.#namespace),
        resolveScopes: (service, endpoint) => this.#scopesOf(service, endpoint),
      },
    )
  }

  /** The scopes an endpoint declares, as its tool knows them ([] when it has no tool). */
  #scopesOf(service: string, endpoint: string): readonly string[] {
    for (const entry of this.catalogue.tools()) {
      if (entry.kind === 'endpoint' && entry.target.service === service && entry.target.endpoint === endpoint)
        return entry.target.scopes
    }
    return []
  }
}

/** The auth info field the HTTP handler puts the caller in. */
export const IDENTITY_KEY = 'micro.identity'

/** The caller the HTTP handler attached to the request's auth info. */
function identityOf(ctx: ServerContext): McpIdentity | undefined {
  return ctx.http?.authInfo?.extra?.[IDENTITY_KEY] as McpIdentity | undefined
}

/** `name version` of the MCP client: from the request's envelope (2026-07-28) or the handshake (2025). */
function clientOf(server: Server, ctx: ServerContext): string | undefined {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined
  const info = (envelope?.[CLIENT_INFO_META_KEY] ?? server.getClientVersion()) as
    | { name?: unknown; version?: unknown }
    | undefined
  if (typeof info?.name !== 'string') return undefined
  const text = typeof info.version === 'string' ? `${info.name} ${info.version}` : info.name
  return text.slice(0, 100)
}
