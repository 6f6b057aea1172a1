import { notFound } from '../errors/errors.js'
import { assertValidService, cloneNode, cloneService, sameDescription, sameNode } from './records.js'
import {
  ANY_NAMESPACE,
  DEFAULT_NAMESPACE,
  type NamespaceOption,
  type NodeRecord,
  type RegisterOptions,
  type Registry,
  type ServiceRecord,
  type Watcher,
  type WatchOptions,
} from './registry.js'
import { WatchHub } from './watch-hub.js'

interface NodeEntry {
  node: NodeRecord
  expires: number
}

interface VersionEntry {
  record: ServiceRecord
  nodes: Map<string, NodeEntry>
}

/** Options of {@link MemoryRegistry}. */
export interface MemoryRegistryOptions {
  /** TTL applied when register() names none, in ms. Default: never expires. */
  defaultTtl?: number
  /** How often expired nodes are swept (and watchers told), in ms. Default 1000. */
  sweepInterval?: number
}

/**
 * A registry held in this process: for tests, and for services that only talk to each
 * other inside one process. Nodes expire after their TTL unless renewed.
 */
export class MemoryRegistry implements Registry {
  readonly name = 'memory'
  /** namespace -> service name -> version -> entry */
  readonly #data = new Map<string, Map<string, Map<string, VersionEntry>>>()
  readonly #hub = new WatchHub()
  readonly #defaultTtl: number
  #sweeper: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: MemoryRegistryOptions = {}) {
    this.#defaultTtl = options.defaultTtl ?? 0
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepInterval ?? 1000)
    this.#sweeper.unref()
  }

  async register(service: ServiceRecord, options: RegisterOptions = {}): Promise<void> {
    assertValidService(service)
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const ttl = options.ttl ?? this.#defaultTtl
    const expires = ttl > 0 ? Date.now() + ttl : Number.POSITIVE_INFINITY
    let services = this.#data.get(namespace)
    if (!services) {
      services = new Map()
      this.#data.set(namespace, services)
    }
    let versions = services.get(service.name)
    if (!versions) {
      versions = new Map()
      services.set(service.name, versions)
    }
    let entry = versions.get(service.version)
    const described = entry !== undefined && !sameDescription(entry.record, service)
    if (!entry) {
      entry = { record: cloneService(service, []), nodes: new Map() }
      versions.set(service.version, entry)
    } else {
      entry.record = cloneService(service, [])
    }
    const added: NodeRecord[] = []
    const changed: NodeRecord[] = []
    for (const node of service.nodes) {
      const existing = entry.nodes.get(node.id)
      if (!existing) added.push(node)
      else if (!sameNode(existing.node, node)) changed.push(node)
      entry.nodes.set(node.id, { node: cloneNode(node), expires })
    }
    // A plain renewal changes nothing a watcher could see, so it emits nothing.
    if (added.length > 0) {
      this.#hub.emit({
        action: 'create',
        namespace,
        service: cloneService(entry.record, [...added, ...changed]),
      })
    } else if (changed.length > 0 || described) {
      // New endpoints or metadata concern every node of the version, so the event carries them all.
      const nodes = described ? [...entry.nodes.values()].map((e) => e.node) : changed
      this.#hub.emit({ action: 'update', namespace, service: cloneService(entry.record, nodes) })
    }
  }

  async deregister(service: ServiceRecord, options: NamespaceOption = {}): Promise<void> {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const versions = this.#data.get(namespace)?.get(service.name)
    const entry = versions?.get(service.version)
    if (!versions || !entry) return
    const removed: NodeRecord[] = []
    for (const node of service.nodes) {
      const existing = entry.nodes.get(node.id)
      if (existing) {
        entry.nodes.delete(node.id)
        removed.push(existing.node)
      }
    }
    if (entry.nodes.size === 0) versions.delete(service.version)
    if (versions.size === 0) {
      const services = this.#data.get(namespace)
      services?.delete(service.name)
      if (services?.size === 0) this.#data.delete(namespace)
    }
    if (removed.length > 0) {
      this.#hub.emit({ action: 'delete', namespace, service: cloneService(entry.record, removed) })
    }
  }

  async getService(name: string, options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const versions = this.#data.get(namespace)?.get(name)
    const result = versions ? this.#live(versions) : []
    if (result.length === 0)
      throw notFound('micro.registry', `service ${name} not found in namespace ${namespace}`)
    return result
  }

  async listServices(options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const namespaces =
      namespace === ANY_NAMESPACE ? [...this.#data.values()] : [this.#data.get(namespace) ?? new Map()]
    const result: ServiceRecord[] = []
    for (const services of namespaces) {
      for (const versions of services.values()) result.push(...this.#live(versions))
    }
    return result
  }

  watch(options?: WatchOptions): Watcher {
    const watcher = this.#hub.watch(options)
    // A closed registry has no changes left to tell; its watchers end at once.
    if (this.#closed) watcher.stop()
    return watcher
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#sweeper) clearInterval(this.#sweeper)
    this.#sweeper = undefined
    this.#hub.close()
  }

  #live(versions: Map<string, VersionEntry>): ServiceRecord[] {
    const now = Date.now()
    const result: ServiceRecord[] = []
    for (const entry of versions.values()) {
      const nodes: NodeRecord[] = []
      for (const { node, expires } of entry.nodes.values()) if (expires > now) nodes.push(node)
      if (nodes.length > 0) result.push(cloneService(entry.record, nodes))
    }
    return result
  }

  #sweep(): void {
    const now = Date.now()
    for (const [namespace, services] of this.#data) {
      for (const [name, versions] of services) {
        for (const [version, entry] of versions) {
          const expired: NodeRecord[] = []
          for (const [id, { node, expires }] of entry.nodes) {
            if (expires <= now) {
              entry.nodes.delete(id)
              expired.push(node)
            }
          }
          if (expired.length > 0) {
            this.#hub.emit({ action: 'delete', namespace, service: cloneService(entry.record, expired) })
          }
          if (entry.nodes.size === 0) versions.delete(version)
        }
        if (versions.size === 0) services.delete(name)
      }
      if (services.size === 0) this.#data.delete(namespace)
    }
  }
}
