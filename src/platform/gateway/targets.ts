import type { ServiceLookup } from '../../client/lookup.js'
import { MicroError, notFound } from '../../errors/errors.js'
import type { ServiceRecord } from '../../registry/registry.js'
import type { Route } from './routes.js'

const ID = 'micro.gateway'

/** What the registry says about an endpoint: whether it streams, and which versions serve it. */
export interface EndpointEntry {
  stream: boolean
  versions: ReadonlySet<string>
}

/** Endpoint tables per record list: the cache hands out the same frozen list until the service changes. */
const indexes = new WeakMap<readonly ServiceRecord[], Map<string, EndpointEntry>>()

function indexOf(records: readonly ServiceRecord[]): Map<string, EndpointEntry> {
  let index = indexes.get(records)
  if (index === undefined) {
    const building = new Map<string, { stream: boolean; versions: Set<string> }>()
    for (const record of records) {
      for (const endpoint of record.endpoints) {
        const entry = building.get(endpoint.name) ?? { stream: false, versions: new Set<string>() }
        entry.stream ||= endpoint.metadata.stream === 'true'
        entry.versions.add(record.version)
        building.set(endpoint.name, entry)
      }
    }
    index = building
    indexes.set(records, index)
  }
  return index
}

/**
 * Finds the registry entry of a route's endpoint through the client's cached registry:
 * a 404 when the service is not registered, when the endpoint is not among its registered
 * endpoints (so internal handlers are never reachable), or when no registered version
 * named by `Micro-Version` has it. Answers synchronously while the cache is fresh.
 * Services found missing are remembered for `negativeTtl` ms (bounded), so a client
 * repeating a bad path does not send the registry a lookup per request.
 */
export class Targets {
  readonly #lookup: ServiceLookup
  readonly #namespace: string
  readonly #missing = new Map<string, number>()
  readonly #negativeTtl: number

  constructor(lookup: ServiceLookup, namespace: string, negativeTtl = 1000) {
    this.#lookup = lookup
    this.#namespace = namespace
    this.#negativeTtl = negativeTtl
  }

  /** The endpoint's entry; throws (or rejects with) a 404 MicroError when there is none. */
  find(route: Route, version: string | undefined): EndpointEntry | Promise<EndpointEntry> {
    const records = this.#lookup.peek(route.service, this.#namespace)
    if (records !== undefined) return entryIn(records, route, version)
    return this.#slow(route, version)
  }

  async #slow(route: Route, version: string | undefined): Promise<EndpointEntry> {
    const missingUntil = this.#missing.get(route.service)
    if (missingUntil !== undefined) {
      if (missingUntil > Date.now()) throw serviceNotFound(route.service)
      this.#missing.delete(route.service)
    }
    let records: readonly ServiceRecord[]
    try {
      records = await this.#lookup.getService(route.service, this.#namespace)
    } catch (error) {
      if (MicroError.from(error).code !== 404) throw error
      if (this.#missing.size >= 4096) this.#missing.delete(this.#missing.keys().next().value as string)
      this.#missing.set(route.service, Date.now() + this.#negativeTtl)
      throw serviceNotFound(route.service)
    }
    return entryIn(records, route, version)
  }
}

function entryIn(
  records: readonly ServiceRecord[],
  route: Route,
  version: string | undefined,
): EndpointEntry {
  const entry = indexOf(records).get(route.endpoint)
  if (entry === undefined) throw notFound(ID, `service ${route.service} has no endpoint ${route.endpoint}`)
  if (version !== undefined && !entry.versions.has(version)) {
    throw notFound(ID, `service ${route.service} has no version ${version} serving ${route.endpoint}`)
  }
  return entry
}

function serviceNotFound(service: string): MicroError {
  return notFound(ID, `service ${service} not found`)
}
