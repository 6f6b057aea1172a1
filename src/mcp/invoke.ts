import { type CallToolResult, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server'
import * as otel from '@opentelemetry/api'
import { MicroError } from '../errors/errors.js'
import { Spans } from '../features/tracing/spans.js'
import { formatTraceparent, parseTraceparent } from '../features/tracing/traceparent.js'
import type { AccessDecision, McpIdentity } from './access.js'
import { type AuditRecord, type AuditSink, auditDetail } from './audit.js'
import type { ToolLimiter } from './limits.js'
import { errorResult, isObject, successResult, type ToolEntry, type ToolTarget } from './tools.js'

/** The error id of refusals made by the MCP server itself. */
export const MCP_ERROR_ID = 'micro.mcp'

const spans = new Spans(otel, otel.trace.getTracer('micro.mcp', '1'))

/** One `tools/call` as it arrived. */
export interface Invocation {
  /** The tool, or undefined when no tool has that name. */
  entry: ToolEntry | undefined
  name: string
  args: unknown
  identity: McpIdentity
  signal: AbortSignal
  /** The request's `_meta` (a `traceparent` there continues the client's trace). */
  meta?: Record<string, unknown>
  /** The MCP client's `name version`. */
  client?: string
}

/** What the engine gives every call. */
export interface InvokeContext {
  namespace: string
  timeout: number
  limiter: ToolLimiter
  audit: AuditSink
  check(target: ToolTarget): Promise<AccessDecision>
  resolveScopes(service: string, endpoint: string): readonly string[]
}

/**
 * Run one tool call: unknown tool (JSON-RPC -32602, audited), arguments that are no object
 * (-32602), the tool's rate limit (isError 429), access (isError 401/403), then the call in
 * an OpenTelemetry span whose context travels with it as `traceparent`. One audit record per
 * call whatever happens.
 */
export async function invokeTool(call: Invocation, context: InvokeContext): Promise<CallToolResult> {
  const started = performance.now()
  const record: AuditRecord = {
    time: new Date().toISOString(),
    tool: call.name.length > 128 ? `${call.name.slice(0, 125)}...` : call.name,
    transport: call.identity.transport,
    scopes: [],
    allowed: false,
    durationMs: 0,
  }
  if (call.client !== undefined) record.client = call.client
  if (call.identity.address !== undefined) record.address = call.identity.address
  const finish = (fields: Partial<AuditRecord>) => {
    Object.assign(record, fields, { durationMs: Math.round((performance.now() - started) * 1000) / 1000 })
    context.audit.record(record)
  }
  const { entry } = call
  if (entry === undefined) {
    finish({ reason: 'unknown tool' })
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${record.tool}`)
  }
  if (call.args !== undefined && call.args !== null && !isObject(call.args)) {
    finish({ reason: 'arguments are not an object' })
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `arguments of ${entry.tool.name} must be an object`,
    )
  }
  const args = (call.args ?? {}) as Record<string, unknown>
  let target: ToolTarget
  try {
    target = entry.targetOf ? entry.targetOf(args, context.resolveScopes) : entry.target
  } catch (error) {
    const e = MicroError.from(error, MCP_ERROR_ID)
    finish({ reason: auditDetail(e.detail) })
    return errorResult(e)
  }
  Object.assign(record, { service: target.service, endpoint: target.endpoint, scopes: target.scopes })
  const wait = context.limiter.take(entry.tool.name)
  if (wait > 0) {
    const error = new MicroError(
      MCP_ERROR_ID,
      `tool ${entry.tool.name} is over its rate limit: retry after ${wait} ms`,
      429,
    )
    finish({ reason: 'rate limited' })
    return errorResult(error)
  }
  let decision: AccessDecision
  try {
    decision = await context.check(target)
  } catch (error) {
    decision = { ok: false, error: MicroError.from(error, MCP_ERROR_ID) }
  }
  if (decision.account !== undefined) record.account = decision.account
  if (!decision.ok) {
    finish({ reason: `${decision.error.code} ${auditDetail(decision.error.detail)}` })
    return errorResult(decision.error)
  }
  record.verified = decision.verified
  const parent = parseTraceparent(stringOf(call.meta?.traceparent), stringOf(call.meta?.tracestate))
  const active = spans.start(`tools/call ${entry.tool.name}`, 'server', parent, {
    'mcp.method.name': 'tools/call',
    'gen_ai.operation.name': 'execute_tool',
    'gen_ai.tool.name': entry.tool.name,
    'micro.service': target.service,
    'micro.endpoint': target.endpoint,
  })
  record.traceId = active.trace.traceId
  const metadata: Record<string, string> = {
    ...decision.metadata,
    traceparent: formatTraceparent(active.trace),
    'micro-mcp-tool': entry.tool.name,
  }
  if (active.trace.state) metadata.tracestate = active.trace.state
  try {
    const value = await spans.within(active, () =>
      entry.run(args, {
        metadata,
        signal: call.signal,
        timeout: context.timeout,
        namespace: context.namespace,
      }),
    )
    finish({ allowed: true })
    return successResult(value)
  } catch (error) {
    const e = MicroError.from(error, MCP_ERROR_ID)
    const detail = auditDetail(e.detail)
    // A refusal by the service or the platform's proxy is a denial, as one made here would be.
    if (e.code === 401 || e.code === 403) finish({ reason: `${e.code} ${detail}` })
    else finish({ allowed: true, error: { id: e.id, code: e.code, detail } })
    return errorResult(e)
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
