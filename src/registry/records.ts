import { isDeepStrictEqual } from 'node:util'
import type { EndpointRecord, NodeRecord, ServiceRecord } from './registry.js'

/** A deep copy of an endpoint; schemas are copied too, since callers may edit them in place. */
export function cloneEndpoint(endpoint: EndpointRecord): EndpointRecord {
  const copy: EndpointRecord = { name: endpoint.name, metadata: { ...endpoint.metadata } }
  // Absent schemas stay absent (not `undefined`), so copies compare equal to the original.
  if (endpoint.request !== undefined) copy.request = copyJson(endpoint.request)
  if (endpoint.response !== undefined) copy.response = copyJson(endpoint.response)
  return copy
}

/**
 * A deep copy of JSON data (plain objects, arrays, primitives). Records are copied on every
 * lookup, and structuredClone costs several times more on such small objects (1,000 services
 * listed went from ~80 ms to a few). Anything that is not plain JSON goes to structuredClone.
 */
function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(copyJson) as T
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return structuredClone(value)
  const copy: Record<string, unknown> = proto === null ? Object.create(null) : {}
  for (const key of Object.keys(value)) copy[key] = copyJson((value as Record<string, unknown>)[key])
  return copy as T
}

/** A copy of a node record. */
export function cloneNode(node: NodeRecord): NodeRecord {
  return { id: node.id, address: node.address, metadata: { ...node.metadata } }
}

/** A deep copy of a service record, so callers can never mutate a registry's state. */
export function cloneService(service: ServiceRecord, nodes: NodeRecord[] = service.nodes): ServiceRecord {
  return {
    name: service.name,
    version: service.version,
    metadata: { ...service.metadata },
    endpoints: (service.endpoints ?? []).map(cloneEndpoint),
    nodes: nodes.map(cloneNode),
  }
}

/** Whether two records describe the same service version (name, version, metadata, endpoints), ignoring nodes. */
export function sameDescription(a: ServiceRecord, b: ServiceRecord): boolean {
  return (
    a.name === b.name &&
    a.version === b.version &&
    isDeepStrictEqual(a.metadata, b.metadata) &&
    isDeepStrictEqual(a.endpoints, b.endpoints)
  )
}

/** Whether two node records are the same (id, address, metadata). */
export function sameNode(a: NodeRecord, b: NodeRecord): boolean {
  return a.id === b.id && a.address === b.address && isDeepStrictEqual(a.metadata, b.metadata)
}

/** Check the parts of a record every registry relies on; throws a TypeError naming the problem. */
export function assertValidService(service: ServiceRecord): void {
  if (!service || typeof service.name !== 'string' || service.name === '') {
    throw new TypeError('service record needs a non-empty name')
  }
  if (typeof service.version !== 'string')
    throw new TypeError(`service ${service.name} needs a version string`)
  if (!Array.isArray(service.nodes)) throw new TypeError(`service ${service.name} needs a nodes array`)
  if (service.endpoints !== undefined && !Array.isArray(service.endpoints)) {
    throw new TypeError(`service ${service.name} needs an endpoints array`)
  }
  for (const node of service.nodes) {
    if (!node || typeof node.id !== 'string' || node.id === '') {
      throw new TypeError(`a node of service ${service.name} has no id`)
    }
    if (typeof node.address !== 'string')
      throw new TypeError(`node ${node.id} of ${service.name} needs an address`)
  }
}

/** Whether a decoded JSON value is a plain object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether a decoded JSON value is an object of string values. */
export function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string')
}

/** Whether a decoded JSON value has the shape of a node record. */
export function isNode(value: unknown): value is NodeRecord {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    value.id !== '' &&
    typeof value.address === 'string' &&
    isStringMap(value.metadata)
  )
}

/** Whether a decoded JSON value has the shape of an endpoint record. */
export function isEndpoint(value: unknown): value is EndpointRecord {
  return (
    isObject(value) &&
    typeof value.name === 'string' &&
    isStringMap(value.metadata) &&
    (value.request === undefined || isObject(value.request)) &&
    (value.response === undefined || isObject(value.response))
  )
}
