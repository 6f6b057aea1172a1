import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/server'
import type { CallOptions } from '../client/options.js'
import type { MicroError } from '../errors/errors.js'
import type { EndpointRecord, JsonSchema } from '../registry/registry.js'

/** What a tool's run gets besides its arguments. */
export interface ToolRun {
  /** Metadata for the call (the caller's bearer, trace context, MCP tool name). */
  metadata: Record<string, string>
  /** Aborts when the MCP client cancels (or disconnects). */
  signal: AbortSignal
  /** Deadline of the call, ms. */
  timeout: number
  /** The namespace the server serves. */
  namespace: string
}

/** The access check of a tool: the RPC resource it acts on, and the scopes it needs. */
export interface ToolTarget {
  service: string
  endpoint: string
  /** Scopes the caller must hold one of (the endpoint's declared scopes; `admin` for built-ins). */
  scopes: readonly string[]
  /**
   * Only the platform's administrators (a user holding `admin`, a service holding `service`),
   * whatever the rules grant: a `*` scope is not enough.
   */
  admin?: boolean
}

/** One tool the server offers: its MCP definition, what it acts on, how it runs. */
export interface ToolEntry {
  tool: Tool
  /** `endpoint`: a service's endpoint; `platform` / `dev`: built-in tools. */
  kind: 'endpoint' | 'platform' | 'dev'
  target: ToolTarget
  /**
   * The target of one call, when it depends on the arguments (`call_endpoint` acts on the
   * endpoint it is asked to call); `scopesOf` gives an endpoint's declared scopes.
   */
  targetOf?(
    args: Record<string, unknown>,
    scopesOf: (service: string, endpoint: string) => readonly string[],
  ): ToolTarget
  /** Run it: the JSON answer (a thrown error becomes an `isError` result with its JSON). */
  run(args: Record<string, unknown>, run: ToolRun): Promise<unknown>
}

/** A plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The tool of a service's endpoint. Its input schema is the endpoint's request JSON Schema
 * (an object; one of another shape is wrapped as `{request: <schema>}` and unwrapped when
 * called; none at all takes any object), with the published `examples`; its output schema
 * the response's. The description is the endpoint's `description` metadata, else one made
 * from the names, plus the scopes it needs. Annotations come from `readOnly`, `destructive`
 * and `idempotent`.
 */
export function endpointTool(
  name: string,
  service: string,
  record: EndpointRecord,
  call: (service: string, endpoint: string, request: unknown, options: CallOptions) => Promise<unknown>,
): ToolEntry {
  const metadata = record.metadata ?? {}
  const scopes = (metadata.scopes ?? '').split(',').filter((s) => s !== '')
  const request = record.request
  const wrapped = request !== undefined && request.type !== 'object'
  const inputSchema: JsonSchema = wrapped
    ? { type: 'object', properties: { request }, required: ['request'] }
    : { ...(request ?? { type: 'object' }) }
  const examples = parseExamples(metadata.examples)
  if (examples) inputSchema.examples = wrapped ? examples.map((example) => ({ request: example })) : examples
  const tool: Tool = {
    name,
    title: `${service} ${record.name}`,
    description: describe(service, record.name, metadata.description, scopes),
    inputSchema: inputSchema as Tool['inputSchema'],
    annotations: annotationsOf(metadata),
  }
  if (record.response !== undefined) tool.outputSchema = record.response as Tool['outputSchema']
  return {
    tool,
    kind: 'endpoint',
    target: { service, endpoint: record.name, scopes },
    run: (args, run) =>
      call(service, record.name, wrapped ? args.request : args, {
        metadata: run.metadata,
        signal: run.signal,
        timeout: run.timeout,
        namespace: run.namespace,
      }),
  }
}

function describe(service: string, endpoint: string, given: string | undefined, scopes: string[]): string {
  const text = given?.trim() || `Calls ${endpoint} of the ${service} service.`
  return scopes.length > 0 ? `${text}\n\nNeeds one of the scopes: ${scopes.join(', ')}.` : text
}

/** MCP hints from the endpoint's metadata; MCP assumes destructive unless told (or read-only). */
function annotationsOf(metadata: Record<string, string>): ToolAnnotations {
  const readOnly = metadata.readOnly === 'true'
  const annotations: ToolAnnotations = { readOnlyHint: readOnly }
  if (metadata.destructive !== undefined) annotations.destructiveHint = metadata.destructive === 'true'
  else if (readOnly) annotations.destructiveHint = false
  if (metadata.idempotent === 'true' || readOnly) annotations.idempotentHint = true
  return annotations
}

/** Published examples (a JSON array), or undefined when absent or not an array. */
function parseExamples(text: string | undefined): unknown[] | undefined {
  if (text === undefined) return undefined
  try {
    const value: unknown = JSON.parse(text)
    return Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

/** The answer of a tool that ran: the value as structured content and as JSON text. */
export function successResult(value: unknown): CallToolResult {
  const structured = value === undefined ? null : value
  return {
    content: [{ type: 'text', text: JSON.stringify(structured) }],
    structuredContent: structured as CallToolResult['structuredContent'],
  }
}

/** The answer of a tool that failed: `isError`, the error JSON as text and as structured content. */
export function errorResult(error: MicroError): CallToolResult {
  const json = { ...error.toJSON() }
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(json) }], structuredContent: json }
}
