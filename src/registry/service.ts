import { acquirePlatform, type PlatformLink, platformAddress } from '../engines/platform.js'
import { MicroError, serviceUnavailable } from '../errors/errors.js'
import { assertValidService, cloneService } from './records.js'
import {
  DEFAULT_NAMESPACE,
  type NamespaceOption,
  type RegisterOptions,
  type Registry,
  type ServiceRecord,
  type Watcher,
  type WatchOptions,
} from './registry.js'
import { PlatformWatch, type WatchHost } from './service-watch.js'

/** Options of {@link ServiceRegistry}. */
export interface ServiceRegistryOptions {
  /** The platform, `host:port`. Default MICRO_PLATFORM, else `127.0.0.1:8081`. */
  address?: string
}

/** A registration this instance made, kept to make it again after the platform restarts. */
interface Registration {
  record: ServiceRecord
  namespace: string
  ttl: number | undefined
  /** When it lapses on the platform unless renewed (Infinity without a TTL). */
  lapses: number
}

/**
 * The registry of a platform (`micro server`), through its `Registry` service, as Micro
 * v3's service profile did. Watches reconnect and resync when the platform comes back, and
 * then this instance registers again what it had registered (so a platform that restarted
 * with an empty registry has everyone back without waiting for their renewal). While the
 * platform is unreachable calls fail with a 503; a service's client keeps calling the nodes
 * it knew (its RegistryCache serves them).
 */
export class ServiceRegistry implements Registry {
  readonly name = 'service'
  /** The platform this engine talks to, `host:port`. */
  readonly address: string
  readonly #watches = new Set<PlatformWatch>()
  readonly #registrations = new Map<string, Registration>()
  /** One watch per registered service (`namespace \0 name`): notices the platform coming back. */
  readonly #presence = new Map<string, Watcher>()
  readonly #host: WatchHost
  #link: PlatformLink | undefined
  #closed = false

  constructor(options: ServiceRegistryOptions = {}) {
    this.address = platformAddress(options.address)
    const self = this
    this.#host = {
      get link() {
        return self.#platform()
      },
      snapshot: (namespace, service) => this.#snapshot(namespace, service),
      reconnected: () => void this.#registerAgain(),
      stopped: (watch) => this.#watches.delete(watch),
    }
  }

  async register(service: ServiceRecord, options: RegisterOptions = {}): Promise<void> {
    assertValidService(service)
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const record = cloneService(service)
    // What this instance does after watch() returns is seen by that watch.
    await this.#watchesReady()
    await this.#call('Registry.Register', { namespace, service: record, ttl: options.ttl })
    const lapses = options.ttl === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.ttl
    for (const node of record.nodes) {
      this.#registrations.set(registrationKey(namespace, record, node.id), {
        record: cloneService(record, [node]),
        namespace,
        ttl: options.ttl,
        lapses,
      })
    }
    this.#keepPresence(namespace, record.name)
  }

  async deregister(service: ServiceRecord, options: NamespaceOption = {}): Promise<void> {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    for (const node of service.nodes ?? [])
      this.#registrations.delete(registrationKey(namespace, service, node.id))
    this.#dropPresence(namespace, service.name)
    await this.#watchesReady()
    await this.#call('Registry.Deregister', { namespace, service: cloneService(service) })
  }

  async getService(name: string, options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    const request = { namespace: options.namespace, service: name }
    return (await this.#call<{ services: ServiceRecord[] }>('Registry.GetService', request)).services
  }

  async listServices(options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    const request = { namespace: options.namespace }
    return (await this.#call<{ services: ServiceRecord[] }>('Registry.ListServices', request)).services
  }

  watch(options: WatchOptions = {}): Watcher {
    if (this.#closed) throw closedError()
    const watch = new PlatformWatch(this.#host, options)
    if (!watch.stopped) this.#watches.add(watch)
    return watch
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const watch of [...this.#watches]) watch.stop()
    this.#watches.clear()
    this.#presence.clear()
    this.#registrations.clear()
    await this.#link?.release()
    this.#link = undefined
  }

  /**
   * Watch a service this instance registered, so that a platform that restarts is noticed
   * at once (the watch reconnects) and the registration made again, rather than at the
   * next renewal. Its events are not needed.
   */
  #keepPresence(namespace: string, name: string): void {
    const key = `${namespace}\0${name}`
    if (this.#presence.has(key) || this.#closed) return
    const watch = this.watch({ namespace, service: name })
    this.#presence.set(key, watch)
    void (async () => {
      for await (const _ of watch) {
      }
    })()
  }

  /** Stop watching a service once this instance has no node of it left. */
  #dropPresence(namespace: string, name: string): void {
    const prefix = `${namespace}\0${name}\0`
    for (const key of this.#registrations.keys()) if (key.startsWith(prefix)) return
    const key = `${namespace}\0${name}`
    this.#presence.get(key)?.stop()
    this.#presence.delete(key)
  }

  #platform(): PlatformLink {
    if (this.#closed) throw closedError()
    this.#link ??= acquirePlatform(this.address)
    return this.#link
  }

  async #call<T>(endpoint: string, request: unknown): Promise<T> {
    return this.#platform().call<T>(endpoint, request)
  }

  async #watchesReady(): Promise<void> {
    await Promise.all([...this.#watches].map((watch) => watch.ready.catch(() => {})))
  }

  async #snapshot(namespace: string, service: string | undefined): Promise<ServiceRecord[]> {
    if (service === undefined) return this.listServices({ namespace })
    try {
      return await this.getService(service, { namespace })
    } catch (error) {
      if (error instanceof MicroError && error.code === 404) return []
      throw error
    }
  }

  /** After the platform came back: register again every registration that has not lapsed. */
  async #registerAgain(): Promise<void> {
    const now = Date.now()
    for (const [key, registration] of this.#registrations) {
      if (registration.lapses <= now) {
        this.#registrations.delete(key)
        continue
      }
      const { record, namespace, ttl } = registration
      const remaining = ttl === undefined ? undefined : registration.lapses - now
      await this.#call('Registry.Register', { namespace, service: record, ttl: remaining }).catch(() => {})
    }
  }
}

function registrationKey(namespace: string, service: ServiceRecord, node: string): string {
  return `${namespace}\0${service.name}\0${service.version}\0${node}`
}

function closedError(): MicroError {
  return serviceUnavailable('micro.registry', 'the service registry is closed')
}
