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
 * named by `Micro-Version` has it, all in the request's namespace (registry domain).
 * Answers synchronously while the cache is fresh. Services found missing are remembered
 * for `negativeTtl` ms (bounded), so a client repeating a bad path does not send the
 * registry a lookup per request.
 */
export class Targets {
  readonly #lookup: ServiceLookup
  /** `namespace\0service` -> remembered missing until (ms). */
  readonly #missing = new Map<string, number>()
  readonly #negativeTtl: number

  constructor(lookup: ServiceLookup, negativeTtl = 1000) {
    this.#lookup = lookup
    this.#negativeTtl = negativeTtl
  }

  /** The endpoint's entry in `namespace`; throws (or rejects with) a 404 MicroError when there is none. */
  find(route: Route, version: string | undefined, namespace: string): EndpointEntry | Promise<EndpointEntry> {
    const records = this.#lookup.peek(route.service, namespace)
    if (records !== undefined) return entryIn(records, route, version)
    return this.#slow(route, version, namespace)
  }

  async #slow(route: Route, version: string | undefined, namespace: string): Promise<EndpointEntry> {
    const key = `${namespace}\0${route.service}`
    const missingUntil = this.#missing.get(key)
    if (missingUntil !== undefined) {
      if (missingUntil > Date.now()) throw serviceNotFound(route.service)
      this.#missing.delete(key)
    }
    let records: readonly ServiceRecord[]
    try {
      records = await this.#lookup.getService(route.service, namespace)
    } catch (error) {
      if (MicroError.from(error).code !== 404) throw error
      if (this.#missing.size >= 4096) this.#missing.delete(this.#missing.keys().next().value as string)
      this.#missing.set(key, Date.now() + this.#negativeTtl)
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
