import type { EndpointRecord, JsonSchema, Registry, ServiceRecord } from '../../registry/registry.js'
import { SchemaComponents, sanitize } from './components.js'
import { errorResponses, MICRO_ERROR_SCHEMA, RPC_ENVELOPE_SCHEMA } from './errors.js'

/** An OpenAPI 3.1 document, as JSON. */
export type OpenApiDocument = Record<string, unknown> & {
  openapi: string
  paths: Record<string, Record<string, OpenApiOperation>>
  components: { schemas: Record<string, JsonSchema> } & Record<string, unknown>
}

/** One operation, with micro's extensions. */
export type OpenApiOperation = Record<string, unknown> & {
  operationId: string
  'x-micro-service'?: string
  'x-micro-endpoint'?: string
  'x-micro-stream'?: boolean
}

/** What to put in the document. */
export interface OpenApiOptions {
  /** Registry namespace to describe. Default `micro`. */
  namespace?: string
  /** Only this service. */
  service?: string
  /** `info.title`. Default `micro services`. */
  title?: string
  /** `info.version`. Default `1.0.0`. */
  version?: string
  /** `servers[0].url`: where the gateway is. Default `/` (the server the document came from). */
  serverUrl?: string
}

/** The services to describe: a registry, or a function that lists them. */
export type ServiceSource = Registry | (() => Promise<ServiceRecord[]>)

// The gateway's dotted route takes these: other names are reachable through /rpc only.
const SERVICE = /^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$/
const ENDPOINT = /^[A-Za-z_$][\w$]*\.[A-Za-z_$][\w$]*$/

/**
 * The OpenAPI 3.1 document of the services in a registry: one `POST
 * /api/{service}/{Handler.Method}` operation per endpoint (the gateway's canonical route)
 * plus `POST /rpc`, request and response bodies from the JSON Schemas the services
 * published, errors as the error JSON with their status codes, scopes as security
 * requirements, and `x-micro-stream` / `x-micro-idempotent` on the endpoints that are.
 */
export async function openApiDocument(
  source: ServiceSource,
  options: OpenApiOptions = {},
): Promise<OpenApiDocument> {
  const namespace = options.namespace ?? 'micro'
  let services: ServiceRecord[]
  if (typeof source === 'function') services = await source()
  else if (options.service !== undefined) services = await source.getService(options.service, { namespace })
  else services = await source.listServices({ namespace })
  return buildOpenApiDocument(services, options)
}

/** The document for these service records (every version of a service merged, newest first). */
export function buildOpenApiDocument(
  services: readonly ServiceRecord[],
  options: OpenApiOptions = {},
): OpenApiDocument {
  const components = new SchemaComponents()
  const errorRef = components.define('MicroError', MICRO_ERROR_SCHEMA)
  const envelopeRef = components.define('RpcRequest', RPC_ENVELOPE_SCHEMA)
  const paths: OpenApiDocument['paths'] = {}
  const tags: { name: string; description: string }[] = []
  let secured = false
  for (const [name, versions] of byService(services, options.service)) {
    if (!SERVICE.test(name)) continue
    tags.push({ name, description: `${name} ${versions.map((v) => v.version || 'latest').join(', ')}` })
    for (const endpoint of mergedEndpoints(versions)) {
      if (!ENDPOINT.test(endpoint.name)) continue
      const operation = operationOf(name, endpoint, components, errorRef)
      if (operation.security) secured = true
      paths[`/api/${name}/${endpoint.name}`] = { post: operation }
    }
  }
  paths['/rpc'] = { post: rpcOperation(envelopeRef, errorRef) }
  const document: OpenApiDocument = {
    openapi: '3.1.1',
    info: {
      title: options.title ?? 'micro services',
      version: options.version ?? '1.0.0',
      description:
        'Every registered endpoint through the micro gateway. Errors are `{id, code, detail, status}`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: options.serverUrl ?? '/' }],
    tags,
    paths,
    components: { schemas: components.schemas, responses: errorResponses(errorRef) },
  }
  if (secured) {
    document.components.securitySchemes = {
      micro: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: 'A micro token (micro login)',
      },
    }
  }
  return document
}

function operationOf(
  service: string,
  endpoint: EndpointRecord,
  components: SchemaComponents,
  errorRef: { $ref: string },
): OpenApiOperation {
  const stream = endpoint.metadata.stream === 'true'
  const idempotent = endpoint.metadata.idempotent === 'true'
  const base = `${service}.${endpoint.name}`
  const request = endpoint.request ? components.add(endpoint.request, `${base}.Request`) : {}
  const response = endpoint.response ? components.add(endpoint.response, `${base}.Response`) : {}
  const scopes = (endpoint.metadata.scopes ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const description = endpoint.metadata.description
  const operation: OpenApiOperation = {
    operationId: sanitize(base),
    tags: [service],
    summary: endpoint.name,
    requestBody: { required: true, content: { 'application/json': { schema: request } } },
    responses: {
      '200': stream
        ? {
            description:
              'A stream: as Server-Sent Events (`Accept: text/event-stream`), one `data:` event per message, then `event: end` (or `event: error` with the error JSON); or a WebSocket on this path, the first message being the request.',
            content: {
              'text/event-stream': {
                schema: { type: 'string', description: 'data: lines, each the JSON of one message' },
                'x-micro-message': response,
              },
            },
          }
        : { description: 'The reply', content: { 'application/json': { schema: response } } },
      ...errorRefs(scopes.length > 0),
      default: { description: 'Any other error', content: { 'application/json': { schema: errorRef } } },
    },
    'x-micro-service': service,
    'x-micro-endpoint': endpoint.name,
  }
  if (description) operation.description = description
  if (stream) operation['x-micro-stream'] = true
  if (idempotent) operation['x-micro-idempotent'] = true
  if (scopes.length > 0) {
    operation.security = [{ micro: scopes }]
    operation['x-micro-scopes'] = scopes
  }
  return operation
}

function rpcOperation(envelope: { $ref: string }, errorRef: { $ref: string }): OpenApiOperation {
  return {
    operationId: 'rpc',
    tags: ['rpc'],
    summary: 'Call any endpoint by name',
    description:
      "Micro's `/rpc`: `{service, endpoint, request}` calls `endpoint` of `service` with `request`.",
    requestBody: { required: true, content: { 'application/json': { schema: envelope } } },
    responses: {
      '200': { description: "The endpoint's reply", content: { 'application/json': { schema: {} } } },
      ...errorRefs(false),
      default: { description: 'Any other error', content: { 'application/json': { schema: errorRef } } },
    },
  }
}

function errorRefs(secured: boolean): Record<string, { $ref: string }> {
  const codes = secured
    ? ['400', '401', '403', '404', '408', '429', '500', '503']
    : ['400', '404', '408', '429', '500', '503']
  return Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/responses/Error${code}` }]))
}

/** Records grouped by service name, sorted; each group newest version first. */
function byService(
  services: readonly ServiceRecord[],
  only: string | undefined,
): Map<string, ServiceRecord[]> {
  const groups = new Map<string, ServiceRecord[]>()
  for (const record of services) {
    if (only !== undefined && record.name !== only) continue
    const list = groups.get(record.name) ?? []
    list.push(record)
    groups.set(record.name, list)
  }
  for (const list of groups.values()) list.sort((a, b) => compareVersions(b.version, a.version))
  return new Map([...groups].sort(([a], [b]) => a.localeCompare(b)))
}

/** Every endpoint of any version, the newest version's description of each winning; sorted. */
function mergedEndpoints(versions: readonly ServiceRecord[]): EndpointRecord[] {
  const endpoints = new Map<string, EndpointRecord>()
  for (const version of versions) {
    for (const endpoint of version.endpoints ?? []) {
      if (typeof endpoint?.name !== 'string' || endpoints.has(endpoint.name)) continue
      endpoints.set(endpoint.name, { ...endpoint, metadata: endpoint.metadata ?? {} })
    }
  }
  return [...endpoints.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** Dotted numeric versions compared part by part (`1.10.0` > `1.9.2`); others as text. */
function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.')
  const pb = b.replace(/^v/, '').split('.')
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0'
    const y = pb[i] ?? '0'
    const nx = Number(x)
    const ny = Number(y)
    const diff = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y)
    if (diff !== 0) return diff
  }
  return 0
}
