import type { OpenApiDocument, OpenApiOperation } from './document.js'
import { CLIENT_RUNTIME } from './ts-runtime.js'
import { jsdoc, tsType } from './ts-types.js'

/** Settings of the generated client. */
export interface TsClientOptions {
  /** The gateway the client calls unless given another. Default `http://127.0.0.1:8080`. */
  baseUrl?: string
  /** A line saying where it came from (the command that made it). */
  generatedBy?: string
}

interface Endpoint {
  service: string
  handler: string
  method: string
  endpoint: string
  stream: boolean
  request: string
  response: string
  doc: string
}

/**
 * A single-file TypeScript client for the operations of an OpenAPI document made by
 * `openApiDocument`: no dependencies (global `fetch`), one class per service with one
 * object per handler and a method per endpoint (`api.shop.Shop.Order(req)`, the names the
 * registry uses), types from the schemas, and failures thrown as `MicroApiError`
 * (`{id, code, detail, status}`). Streaming endpoints are async iterables over SSE.
 */
export function generateTsClient(document: OpenApiDocument, options: TsClientOptions = {}): string {
  const names = new Names()
  const componentNames = new Map<string, string>()
  for (const name of Object.keys(document.components.schemas)) {
    // The error is MicroApiError here, and /rpc is not what a typed client calls.
    if (name !== 'MicroError' && name !== 'RpcRequest') componentNames.set(name, names.take(pascal(name)))
  }
  const refs = (ref: string) => {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref)
    return match ? componentNames.get(match[1] as string) : undefined
  }
  const services = new Map<string, Endpoint[]>()
  for (const operation of operations(document)) {
    const service = operation['x-micro-service'] as string
    const endpoint = operation['x-micro-endpoint'] as string
    const [handler, method] = endpoint.split('.') as [string, string]
    const stream = operation['x-micro-stream'] === true
    const list = services.get(service) ?? []
    list.push({
      service,
      handler,
      method,
      endpoint,
      stream,
      request: tsType(requestSchema(operation), refs, '    '),
      response: tsType(responseSchema(operation, stream), refs, '    '),
      doc: [operation.description, operation['x-micro-idempotent'] ? 'Idempotent: safe to retry.' : '']
        .filter(Boolean)
        .join('\n\n'),
    })
    services.set(service, list)
  }
  const out: string[] = []
  out.push(
    `// micro client, generated${options.generatedBy ? ` by ${oneLine(options.generatedBy)}` : ''}. Do not edit.`,
  )
  out.push('// No dependencies: it needs a global fetch (browsers, Node.js 18+, Deno, Bun).')
  out.push('/* eslint-disable */')
  out.push('')
  out.push(CLIENT_RUNTIME.replace('__BASE_URL__', JSON.stringify(options.baseUrl ?? 'http://127.0.0.1:8080')))
  out.push('// Types of the requests and replies, from the schemas the services published.')
  out.push('')
  for (const [name, ts] of componentNames) {
    const schema = document.components.schemas[name]
    const doc = typeof schema?.description === 'string' ? jsdoc(schema.description, '') : ''
    const type = aliasLoop(document, name) ? 'unknown' : tsType(schema, refs, '')
    out.push(`${doc}export type ${ts} = ${type}`)
    out.push('')
  }
  const classes: { property: string; className: string }[] = []
  for (const [service, endpoints] of services) {
    const className = names.take(`${pascal(service)}Service`)
    classes.push({ property: names.property(camel(service)), className })
    out.push(serviceClass(service, className, endpoints))
  }
  out.push('/** Every service, each a property: `new Client().shop.Shop.Order(...)`. */')
  out.push('export class Client {')
  for (const c of classes) out.push(`  readonly ${c.property}: ${c.className}`)
  out.push('')
  out.push('  constructor(options: ClientOptions = {}) {')
  out.push('    const transport = new Transport(options)')
  for (const c of classes) out.push(`    this.${c.property} = new ${c.className}(transport)`)
  out.push('  }')
  out.push('}')
  out.push('')
  return out.join('\n')
}

function serviceClass(service: string, className: string, endpoints: Endpoint[]): string {
  const handlers = new Map<string, Endpoint[]>()
  for (const e of endpoints) handlers.set(e.handler, [...(handlers.get(e.handler) ?? []), e])
  const lines: string[] = []
  lines.push(`/** The ${oneLine(service)} service. */`)
  lines.push(`export class ${className} {`)
  for (const [handler, list] of handlers) {
    lines.push(`  readonly ${member(handler)}: {`)
    for (const e of list) {
      const doc = jsdoc(
        `\`${e.endpoint}\`${e.stream ? ' (a stream: one value per message)' : ''}${e.doc ? `\n\n${e.doc}` : ''}`,
        '    ',
      )
      const result = e.stream ? `AsyncIterable<${e.response}>` : `Promise<${e.response}>`
      lines.push(`${doc}    ${e.method}(request: ${e.request}, options?: CallOptions): ${result}`)
    }
    lines.push('  }')
  }
  lines.push('')
  lines.push('  constructor(transport: Transport) {')
  for (const [handler, list] of handlers) {
    lines.push(`    this.${member(handler)} = {`)
    for (const e of list) {
      const call = e.stream ? 'stream' : 'call'
      // A computed key: a plain `__proto__:` in an object literal would set its prototype.
      const key = e.method === '__proto__' ? '["__proto__"]' : e.method
      lines.push(
        `      ${key}: (request, options) => transport.${call}(${JSON.stringify(e.service)}, ${JSON.stringify(e.endpoint)}, request, options),`,
      )
    }
    lines.push('    }')
  }
  lines.push('  }')
  lines.push('}')
  lines.push('')
  return lines.join('\n')
}

/**
 * Whether a component is only a `$ref` leading back to itself (`{"$ref": "#"}` at the
 * root): as a type alias that is a cycle TypeScript refuses, so it is `unknown`.
 */
function aliasLoop(document: OpenApiDocument, start: string): boolean {
  const seen = new Set<string>()
  let name = start
  for (;;) {
    const target = document.components.schemas[name]?.$ref
    if (typeof target !== 'string') return false
    const next = /^#\/components\/schemas\/(.+)$/.exec(target)?.[1]
    if (next === undefined) return false
    if (next === start || seen.has(next)) return true
    seen.add(next)
    name = next
  }
}

/** A class member name: `constructor` cannot be a field. */
function member(name: string): string {
  return name === 'constructor' ? 'constructor_' : name
}

function operations(document: OpenApiDocument): OpenApiOperation[] {
  const out: OpenApiOperation[] = []
  for (const item of Object.values(document.paths)) {
    const operation = item.post
    if (operation?.['x-micro-service'] && operation['x-micro-endpoint']) out.push(operation)
  }
  return out
}

function requestSchema(operation: OpenApiOperation): unknown {
  return (operation.requestBody as any)?.content?.['application/json']?.schema
}

function responseSchema(operation: OpenApiOperation, stream: boolean): unknown {
  const ok = (operation.responses as any)?.['200']?.content
  return stream ? ok?.['text/event-stream']?.['x-micro-message'] : ok?.['application/json']?.schema
}

/** Unique TypeScript names; the runtime's own are taken from the start. */
class Names {
  readonly #taken = new Set([
    'Client',
    'ClientOptions',
    'CallOptions',
    'MicroApiError',
    'Transport',
    'MicroErrorJson',
  ])
  readonly #properties = new Set<string>()

  take(wanted: string): string {
    let name = wanted
    for (let i = 2; this.#taken.has(name); i++) name = `${wanted}${i}`
    this.#taken.add(name)
    return name
  }

  property(wanted: string): string {
    let name = wanted
    for (let i = 2; this.#properties.has(name); i++) name = `${wanted}${i}`
    this.#properties.add(name)
    return name
  }
}

/** `shop.Shop.Order.Request` is `ShopShopOrderRequest`; a leading digit gets an underscore. */
function pascal(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean)
  const joined = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('') || 'Schema'
  return /^[0-9]/.test(joined) ? `_${joined}` : joined
}

/** `shop-api` is `shopApi`. */
function camel(name: string): string {
  const p = pascal(name)
  return p.startsWith('_') ? p : p.charAt(0).toLowerCase() + p.slice(1)
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/\*\//g, '*\\/')
}
