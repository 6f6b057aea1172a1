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
