/**
 * The Model Context Protocol for AI agents: every registered endpoint is a tool
 * (`<service>_<Handler>_<Method>`), served over Streamable HTTP (`/mcp`) and stdio, with
 * per-tool access, rate limits, audit and spans.
 *
 * ```ts
 * import { createMcpHttpHandler, McpEngine, registrySource } from 'micro-ts/mcp'
 * const engine = new McpEngine({ services: registrySource(registry), client })
 * await engine.start()
 * const mcp = createMcpHttpHandler(engine)
 * createServer((req, res) => mcp.handle(req, res) || notFound(res)).listen(8080, '127.0.0.1')
 * ```
 * @module micro-ts/mcp
 */
export {
  type AccessDecision,
  authorizerAccess,
  forwardedAccess,
  type McpIdentity,
  openAccess,
  type ToolAccess,
} from './access.js'
export { type AuditRecord, AuditRing, type AuditSink, auditTo, logAudit } from './audit.js'
export { defaultInclude, ToolCatalogue } from './catalogue.js'
export { McpEngine, type McpOptions } from './engine.js'
export { createMcpHttpHandler, type McpHttp, type McpHttpOptions } from './http.js'
export type { ToolRateLimit, ToolRateLimits } from './limits.js'
export { assignToolNames, plainToolName, TOOL_NAME } from './naming.js'
export {
  type CallSource,
  type DevSources,
  type EventsReader,
  type LogReader,
  type PlatformSources,
  type Publisher,
  registrySource,
  type ServiceSource,
  type TraceReader,
} from './sources.js'
export { type StdioOptions, serveMcpStdio } from './stdio.js'
export type { ToolEntry, ToolRun, ToolTarget } from './tools.js'
