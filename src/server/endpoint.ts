import type { Context } from './context.js'
import type { InferOutput, StandardSchema } from './standard-schema.js'

/** Per-endpoint settings: schemas, streaming, registry metadata. */
export interface EndpointOptions {
  /** Validates each request on arrival; a failure is a 400 listing the issues. */
  request?: StandardSchema
  /** Describes the response in the registry (JSON Schema, when the library can produce it). */
  response?: StandardSchema
  /** JSON Schemas to publish when the schema library cannot produce them. */
  requestJsonSchema?: Record<string, unknown>
  responseJsonSchema?: Record<string, unknown>
  /** Force streaming on or off; async generator methods are streams by default. */
  stream?: boolean
  /**
   * Running it twice is harmless (a read, a put of the same value). Published in the
   * registry (`idempotent: 'true'`), so a client retries a call to it on another node when
   * the connection is lost after the call was sent; other calls fail with a 503 then,
   * since they may have run.
   */
  idempotent?: boolean
  /**
   * Scopes a caller's account must hold one of to call it (e.g. `['orders:write']`), on top
   * of the auth rules, when auth is on. Published in the registry (`scopes: 'a,b'`), so the
   * gateway and the platform's proxy apply them too.
   */
  scopes?: readonly string[]
  /**
   * What the endpoint does, for people and agents: published as `description`, it becomes
   * the MCP tool's description (JSDoc is gone at run time, so say it here).
   */
  description?: string
  /** Example requests, published as JSON (`examples`); MCP puts them in the tool's input schema. */
  examples?: readonly unknown[]
  /** It changes nothing (a read): published `readOnly: 'true'`, MCP's `readOnlyHint`. */
  readOnly?: boolean
  /**
   * It may delete or overwrite (`true`), or only adds (`false`): published `destructive`, MCP's
   * `destructiveHint` (which MCP assumes when nothing is said and the endpoint is not read-only).
   */
  destructive?: boolean
  /** Extra registry metadata for the endpoint. */
  metadata?: Record<string, string>
}

const ENDPOINT_OPTIONS = Symbol.for('micro-ts.endpoint')

/**
 * Attach endpoint options to a handler function, keeping its type. With a request schema
 * the handler's `req` is typed from the schema:
 *
 * ```ts
 * class Greeter {
 *   Hello = endpoint({ request: z.object({ name: z.string() }) }, async (req) => ({ message: `Hello ${req.name}` }))
 * }
 * ```
 */
export function endpoint<S extends StandardSchema, R>(
  options: EndpointOptions & { request: S },
  handler: (req: InferOutput<S>, ctx: Context) => R,
): (req: InferOutput<S>, ctx?: Context) => R
/**
 * Attach endpoint options to a handler function without a request schema; the handler keeps its type.
 * @typeParam F the handler's own type, returned unchanged
 */
export function endpoint<F extends (...args: any[]) => unknown>(options: EndpointOptions, handler: F): F
export function endpoint(options: EndpointOptions, handler: (...args: any[]) => unknown): unknown {
  if (typeof handler !== 'function') throw new TypeError('endpoint() needs a handler function')
  Object.defineProperty(handler, ENDPOINT_OPTIONS, { value: options, enumerable: false })
  return handler
}

/** The options attached by `endpoint()`, if any. */
export function endpointOptionsOf(fn: unknown): EndpointOptions | undefined {
  if (typeof fn !== 'function') return undefined
  return (fn as unknown as { [ENDPOINT_OPTIONS]?: EndpointOptions })[ENDPOINT_OPTIONS]
}

/**
 * The registry metadata `description`, `examples`, `readOnly` and `destructive` publish,
 * checked: a description is text, examples an array JSON can encode.
 */
export function describedMetadata(
  endpoint: string,
  options: EndpointOptions | undefined,
): Record<string, string> {
  const metadata: Record<string, string> = {}
  if (options?.description !== undefined) {
    if (typeof options.description !== 'string') throw new TypeError(`${endpoint}: description must be text`)
    metadata.description = options.description
  }
  if (options?.examples !== undefined) {
    let json: string | undefined
    try {
      json = Array.isArray(options.examples) ? JSON.stringify(options.examples) : undefined
    } catch {}
    if (json === undefined) throw new TypeError(`${endpoint}: examples must be an array of JSON values`)
    metadata.examples = json
  }
  if (options?.readOnly) metadata.readOnly = 'true'
  if (options?.destructive !== undefined) metadata.destructive = String(options.destructive === true)
  return metadata
}
