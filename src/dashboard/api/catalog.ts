import { notFound, serviceUnavailable } from '../../errors/errors.js'
import type { EndpointRecord, ServiceRecord } from '../../registry/registry.js'
import type { RegistrySource, RuntimeSource } from '../sources.js'
import { DASHBOARD_ID } from './http.js'
import type { EndpointEntry, RuntimeService, ServiceSummary } from './types.js'

/** Whether a registry endpoint record is a subscriber (topic) rather than an RPC endpoint. */
export function isSubscriber(endpoint: EndpointRecord): boolean {
  return endpoint.metadata.subscriber === 'true'
}

/** The description of an endpoint: its `description` metadata, else its request schema's. */
export function describe(endpoint: EndpointRecord): string | undefined {
  const fromSchema = endpoint.request?.description
  return endpoint.metadata.description ?? (typeof fromSchema === 'string' ? fromSchema : undefined)
}

/** The scopes an endpoint requires (`scopes` metadata, comma or space separated). */
export function scopesOf(endpoint: EndpointRecord): string[] | undefined {
  const scopes = endpoint.metadata.scopes?.split(/[\s,]+/).filter(Boolean)
  return scopes && scopes.length > 0 ? scopes : undefined
}

/**
 * The registry's view of a namespace, shared by concurrent requests and kept for a second:
 * the home page, the catalog and the search index all ask at once when a page opens, and a
 * multicast lookup costs a query window each time.
 */
export class CatalogView {
  readonly #registry: RegistrySource | undefined
  readonly #runtime: RuntimeSource | undefined
  readonly #cache = new Map<string, { at: number; services: Promise<ServiceRecord[]> }>()
  readonly #ttl: number

  constructor(registry: RegistrySource | undefined, runtime: RuntimeSource | undefined, ttl = 1000) {
    this.#registry = registry
    this.#runtime = runtime
    this.#ttl = ttl
  }

  /** Every service record of the namespace. */
  services(namespace: string): Promise<ServiceRecord[]> {
    const registry = this.#registry
    if (!registry) return Promise.reject(serviceUnavailable(DASHBOARD_ID, 'no registry is configured'))
    const hit = this.#cache.get(namespace)
    if (hit && Date.now() - hit.at < this.#ttl) return hit.services
    const services = registry.listServices(namespace)
    this.#cache.set(namespace, { at: Date.now(), services })
    services.catch(() => this.#cache.delete(namespace))
    if (this.#cache.size > 64) this.#cache.delete(this.#cache.keys().next().value as string)
    return services
  }

  /** What the runtime runs in the namespace (empty without a runtime, or when it fails). */
  async runtime(namespace: string): Promise<RuntimeService[]> {
    if (!this.#runtime) return []
    try {
      return await this.#runtime.list(namespace)
    } catch {
      return []
    }
  }

  /** One line per service: versions, nodes, endpoint counts and health. */
  async summaries(namespace: string): Promise<ServiceSummary[]> {
    const [records, running] = await Promise.all([this.services(namespace), this.runtime(namespace)])
    const byName = new Map<string, ServiceSummary>()
    for (const record of records) {
      const summary = byName.get(record.name) ?? {
        name: record.name,
        versions: [],
        nodes: 0,
        endpoints: 0,
        subscribers: 0,
        health: 'down' as const,
      }
      if (!summary.versions.includes(record.version)) summary.versions.push(record.version)
      summary.nodes += record.nodes.length
      summary.endpoints += record.endpoints.filter((e) => !isSubscriber(e)).length
      summary.subscribers += record.endpoints.filter(isSubscriber).length
      if (summary.nodes > 0) summary.health = 'up'
      byName.set(record.name, summary)
    }
    for (const process of running) {
      const summary = byName.get(process.name) ?? {
        name: process.name,
        versions: process.version ? [process.version] : [],
        nodes: 0,
        endpoints: 0,
        subscribers: 0,
        health: 'down' as const,
      }
      if (process.crashLoop) summary.health = 'crash-loop'
      else if (summary.health !== 'up' && process.status === 'starting') summary.health = 'starting'
      // A worker with no RPC port is up while its process runs.
      else if (summary.health === 'down' && process.status === 'running') summary.health = 'up'
      byName.set(process.name, summary)
    }
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  /** Every version of one service, and what the runtime knows of it; a 404 when neither has it. */
  async service(namespace: string, name: string) {
    const [records, running] = await Promise.all([this.services(namespace), this.runtime(namespace)])
    const versions = records.filter((r) => r.name === name)
    const process = running.find((r) => r.name === name)
    if (versions.length === 0 && !process) throw notFound(DASHBOARD_ID, `no service ${name} in ${namespace}`)
    return { name, versions, runtime: process }
  }

  /** The search index: one small entry per endpoint of every service. */
  async endpoints(namespace: string): Promise<EndpointEntry[]> {
    const out: EndpointEntry[] = []
    const seen = new Set<string>()
    for (const record of await this.services(namespace)) {
      for (const endpoint of record.endpoints) {
        if (isSubscriber(endpoint)) continue
        const key = `${record.name}\u0000${record.version}\u0000${endpoint.name}`
        if (seen.has(key)) continue
        seen.add(key)
        const entry: EndpointEntry = {
          service: record.name,
          version: record.version,
          name: endpoint.name,
          stream: endpoint.metadata.stream === 'true',
        }
        const description = describe(endpoint)
        if (description) entry.description = description.slice(0, 300)
        const scopes = scopesOf(endpoint)
        if (scopes) entry.scopes = scopes
        out.push(entry)
      }
    }
    return out.sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name))
  }
}
