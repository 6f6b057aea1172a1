import type { EndpointRecord } from '../registry/registry.js'
import type { Context } from './context.js'
import { type EndpointOptions, endpointOptionsOf } from './endpoint.js'
import { jsonSchemaOf } from './schema.js'
import type { StandardSchema } from './standard-schema.js'

/** A handler function as the server calls it. Streams take and return AsyncIterables. */
export type HandlerFn = (req: any, ctx: Context) => unknown

export interface HandleOptions {
  /** The handler name in endpoint names (`<name>.<Method>`). Defaults to the class name. */
  name?: string
  /** Options per method, as an alternative to wrapping methods in `endpoint()`. */
  endpoints?: Record<string, EndpointOptions>
  /** Internal handlers serve calls but are not published in the registry. */
  internal?: boolean
}

/** One endpoint as registered: the bound function and what is known about it. */
export interface EndpointDefinition {
  /** `Handler.Method` */
  name: string
  stream: boolean
  internal: boolean
  fn: HandlerFn
  request: StandardSchema | undefined
  record: EndpointRecord
}

const HIDDEN = new Set(['constructor'])

/**
 * The endpoints of a handler object: every method of a class instance (its prototype
 * chain and function-valued fields) or of a plain object, except names starting with `_`.
 * Async generator methods are streaming endpoints.
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
  const definitions: EndpointDefinition[] = []
  for (const method of methodNames(target)) {
    const fn = (target as Record<string, unknown>)[method]
    if (typeof fn !== 'function') continue
    const endpointOptions = options.endpoints?.[method] ?? endpointOptionsOf(fn)
    const stream = endpointOptions?.stream ?? isAsyncGeneratorFunction(fn)
    const name = `${handlerName}.${method}`
    const metadata: Record<string, string> = { ...endpointOptions?.metadata }
    if (stream) metadata.stream = 'true'
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
      record,
    })
  }
  if (definitions.length === 0) throw new TypeError(`handler ${handlerName} has no methods to serve`)
  return definitions
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
  return [...names].filter((n) => !HIDDEN.has(n) && !n.startsWith('_')).sort()
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && fn.constructor?.name === 'AsyncGeneratorFunction'
}
