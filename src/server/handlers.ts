import type { Codecs } from '../codec/codecs.js'
import type { EndpointRecord } from '../registry/registry.js'
import type { Context } from './context.js'
import { describedMetadata, type EndpointOptions, endpointOptionsOf } from './endpoint.js'
import { jsonSchemaOf } from './schema.js'
import type { StandardSchema } from './standard-schema.js'

/** A handler function as the server calls it. Streams take and return AsyncIterables. */
export type HandlerFn = (req: any, ctx: Context) => unknown

/** Options of `service.handle(handler, options)`: the handler's name and which of its methods are endpoints. */
export interface HandleOptions {
  /** The handler name in endpoint names (`<name>.<Method>`). Defaults to the class name. */
  name?: string
  /**
   * Which methods are endpoints, instead of the naming rule (methods whose names start
   * with an uppercase letter): a list of method names, or options per method name (as an
   * alternative to wrapping methods in `endpoint()`). Only the methods named are served.
   */
  endpoints?: readonly string[] | Record<string, EndpointOptions>
  /** Internal handlers serve calls but are not published in the registry. */
  internal?: boolean
  /**
   * Codecs of some endpoints, by method name, instead of the server's: decode requests and
   * encode replies of typed messages (protobuf endpoints: `grpcHandler` sets them).
   */
  codecs?: Readonly<Record<string, Codecs>>
}

/** One endpoint as registered: the bound function and what is known about it. */
export interface EndpointDefinition {
  /** `Handler.Method` */
  name: string
  stream: boolean
  internal: boolean
  fn: HandlerFn
  request: StandardSchema | undefined
  /** Scopes declared with `endpoint({ scopes })` (empty: none). */
  scopes: readonly string[]
  record: EndpointRecord
  /** The endpoint's own codecs (typed messages), or undefined for the server's. */
  codecs: Codecs | undefined
}

/**
 * Go Micro's rule: a handler's endpoints are its exported methods, those whose names start
 * with an uppercase letter. TypeScript's `private` does not exist at run time, so a helper
 * method is kept out by its name (`validate`, `_cache`); `#private` methods are invisible.
 */
const ENDPOINT_NAME = /^\p{Lu}/u

/** Whether a method name is an endpoint by the naming rule (uppercase first letter). */
export function isEndpointName(name: string): boolean {
  return ENDPOINT_NAME.test(name)
}

/**
 * The endpoints of a handler object: the methods of a class instance (its prototype chain
 * and function-valued fields) or of a plain object whose names start with an uppercase
 * letter, or exactly those `options.endpoints` names. Async generator methods are
 * streaming endpoints.
 */
export function endpointsOf(target: object, options: HandleOptions = {}): EndpointDefinition[] {
  if (typeof target !== 'object' || target === null) {
    throw new TypeError('handle() needs an object: a class instance or an object of functions')
  }
  const handlerName = options.name ?? classNameOf(target)
  if (!handlerName) {
    throw new TypeError("a plain object handler needs a name: service.handle(obj, { name: 'Greeter' })")
  }
  if (!/^[A-Za-z_$][\w$]*$/.test(handlerName)) {
    throw new TypeError(
      `handler name ${handlerName} must be an identifier (it becomes ${handlerName}.Method)`,
    )
  }
  const named = namedEndpoints(options.endpoints)
  const definitions: EndpointDefinition[] = []
  for (const method of named ?? methodNames(target)) {
    const fn = (target as Record<string, unknown>)[method]
    // `toString` and friends belong to every object, not to the handler.
    if (typeof fn !== 'function' || fn === (Object.prototype as Record<string, unknown>)[method]) {
      if (named === undefined) continue
      throw new TypeError(`handler ${handlerName} has no method ${method} (named in endpoints)`)
    }
    const given = Array.isArray(options.endpoints)
      ? undefined
      : (options.endpoints as Record<string, EndpointOptions> | undefined)?.[method]
    const endpointOptions = given ?? endpointOptionsOf(fn)
    const stream = endpointOptions?.stream ?? isAsyncGeneratorFunction(fn)
    const name = `${handlerName}.${method}`
    const metadata: Record<string, string> = {
      ...endpointOptions?.metadata,
      ...describedMetadata(name, endpointOptions),
    }
    if (stream) metadata.stream = 'true'
    if (endpointOptions?.idempotent) metadata.idempotent = 'true'
    const scopes = scopesOf(name, endpointOptions?.scopes)
    if (scopes.length > 0) metadata.scopes = scopes.join(',')
    const record: EndpointRecord = { name, metadata }
    const request = endpointOptions?.requestJsonSchema ?? jsonSchemaOf(endpointOptions?.request, 'input')
    const response = endpointOptions?.responseJsonSchema ?? jsonSchemaOf(endpointOptions?.response, 'output')
    if (request) record.request = request
    if (response) record.response = response
    definitions.push({
      name,
      stream,
      internal: options.internal ?? false,
      fn: (fn as HandlerFn).bind(target),
      request: endpointOptions?.request,
      scopes,
      record,
      codecs: options.codecs?.[method],
    })
  }
  if (definitions.length === 0) {
    throw new TypeError(
      `handler ${handlerName} has no endpoints: endpoints are methods whose names start with an uppercase letter (Hello serves ${handlerName}.Hello); name others with handle(obj, { endpoints: ['hello'] })`,
    )
  }
  return definitions
}

/** The method names `endpoints` gives explicitly, or undefined to apply the naming rule. */
function namedEndpoints(endpoints: HandleOptions['endpoints']): string[] | undefined {
  if (endpoints === undefined) return undefined
  const names = Array.isArray(endpoints) ? [...endpoints] : Object.keys(endpoints)
  for (const name of names) {
    if (typeof name !== 'string' || !/^[A-Za-z_$][\w$]*$/.test(name) || name === 'constructor') {
      throw new TypeError(`endpoint ${String(name)} must be a method name`)
    }
  }
  return [...new Set(names)].sort()
}

/** Declared scopes, checked: names without spaces or commas (they are published comma-joined). */
function scopesOf(endpoint: string, scopes: readonly string[] | undefined): readonly string[] {
  if (scopes === undefined) return []
  if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string' && /^[^\s,]+$/.test(s))) {
    throw new TypeError(`${endpoint}: scopes must be names without spaces or commas`)
  }
  return Object.freeze([...new Set(scopes)])
}

function classNameOf(target: object): string | undefined {
  const proto = Object.getPrototypeOf(target)
  if (proto === Object.prototype || proto === null) return undefined
  const name = proto.constructor?.name
  return typeof name === 'string' && name !== '' ? name : undefined
}

function methodNames(target: object): string[] {
  const names = new Set<string>()
  for (const key of Object.keys(target)) names.add(key)
  let proto = Object.getPrototypeOf(target)
  while (proto && proto !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, key)
      if (descriptor && typeof descriptor.value === 'function') names.add(key)
    }
    proto = Object.getPrototypeOf(proto)
  }
  return [...names].filter(isEndpointName).sort()
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && fn.constructor?.name === 'AsyncGeneratorFunction'
}
