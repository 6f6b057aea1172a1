import type { NodeRecord, ServiceRecord } from './registry.js'

/** A deep copy of a service record, so callers can never mutate a registry's state. */
export function cloneService(service: ServiceRecord, nodes: NodeRecord[] = service.nodes): ServiceRecord {
  return {
    name: service.name,
    version: service.version,
    metadata: { ...service.metadata },
    endpoints: service.endpoints.map((e) => ({
      ...e,
      metadata: { ...e.metadata },
    })),
    nodes: nodes.map((n) => ({ id: n.id, address: n.address, metadata: { ...n.metadata } })),
  }
}

/** Check the parts of a record every registry relies on; throws a TypeError naming the problem. */
export function assertValidService(service: ServiceRecord): void {
  if (!service || typeof service.name !== 'string' || service.name === '') {
    throw new TypeError('service record needs a non-empty name')
  }
  if (typeof service.version !== 'string') throw new TypeError(`service ${service.name} needs a version string`)
  if (!Array.isArray(service.nodes)) throw new TypeError(`service ${service.name} needs a nodes array`)
  for (const node of service.nodes) {
    if (!node.id) throw new TypeError(`a node of service ${service.name} has no id`)
  }
}
