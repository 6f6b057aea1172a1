import type { Broker } from '../broker/broker.js'
import { lazyBrokerFromEnv } from '../broker/lazy.js'
import type { Config } from '../config/config.js'
import { loadServiceConfig } from '../config/service-config.js'
import { storeKV } from '../config/store-kv.js'
import type { Events } from '../events/events.js'
import { lazyEventsFromEnv } from '../events/lazy.js'
import type { Logger } from '../logger/logger.js'
import type { RegistryCache } from '../registry/cache.js'
import type { Registry } from '../registry/registry.js'
import { lazyStoreFromEnv } from '../store/lazy.js'
import { namespacedStore, type StoreDefaults } from '../store/namespaced.js'
import type { Store } from '../store/store.js'
import { lazySyncFromEnv } from '../sync/lazy.js'
import { namespacedSync } from '../sync/namespaced.js'
import type { Sync } from '../sync/sync.js'
import type { Transport } from '../transport/transport.js'

/** What the blocks are built from when the options do not give them. */
export interface BlockDeps {
  name: string
  namespace: string
  registry: Registry
  lookup: RegistryCache
  transport: Transport
  logger: Logger
  env: NodeJS.ProcessEnv
  /** Where `store` calls go when they name no database or table (a service.toml service: its own table). */
  storeDefaults?: StoreDefaults
  /** Wrap the broker handed out (the first is outermost; read at each use): tracing carries context through it. */
  brokerWrappers?: readonly ((broker: Broker) => Broker)[]
}

/** Blocks given by the caller; those left out come from MICRO_* when first used. */
export interface GivenBlocks {
  broker?: Broker
  events?: Events
  store?: Store
  sync?: Sync
  config?: Config
}

/**
 * The building blocks a service carries besides its server and client: broker, events,
 * store, sync and config. Each is made on first use, and its engine's module is imported
 * on its first call (so a service that never publishes loads no broker: a service that
 * loaded every engine at start took ~40 % longer to import and 2 MB more memory), and
 * closed at stop only if this service made it.
 */
export class ServiceBlocks {
  readonly #deps: BlockDeps
  readonly #given: GivenBlocks
  #broker: Broker | undefined
  #wrappedBroker: { size: number; broker: Broker } | undefined
  #events: Events | undefined
  #store: Store | undefined
  #sync: Sync | undefined
  /** The store and sync this service made (and must close), not views of given ones. */
  #ownStore: Store | undefined
  #ownSync: Sync | undefined
  #config: Config | undefined
  #configLoading: Promise<Config> | undefined

  constructor(deps: BlockDeps, given: GivenBlocks) {
    this.#deps = deps
    this.#given = given
  }

  /** The broker, wrapped by `brokerWrappers`. */
  get broker(): Broker {
    const raw = this.#rawBroker()
    const wrappers = this.#deps.brokerWrappers ?? []
    if (wrappers.length === 0) return raw
    if (this.#wrappedBroker?.size !== wrappers.length) {
      this.#wrappedBroker = { size: wrappers.length, broker: wrappers.reduceRight((b, wrap) => wrap(b), raw) }
    }
    return this.#wrappedBroker.broker
  }

  #rawBroker(): Broker {
    this.#broker ??=
      this.#given.broker ??
      lazyBrokerFromEnv(
        {
          registry: this.#deps.registry,
          lookup: this.#deps.lookup,
          transport: this.#deps.transport,
          namespace: this.#deps.namespace,
          logger: this.#deps.logger,
        },
        this.#deps.env,
      )
    return this.#broker
  }

  get events(): Events {
    this.#events ??=
      this.#given.events ??
      lazyEventsFromEnv(this.#deps.env, { namespace: this.#deps.namespace, logger: this.#deps.logger })
    return this.#events
  }

  /** The store, its calls defaulting to the service's namespace (and table, when set). */
  get store(): Store {
    this.#store ??= namespacedStore(this.#rawStore(), this.#deps.namespace, this.#deps.storeDefaults)
    return this.#store
  }

  /** The store itself (given, or made from MICRO_STORE), without the service's defaults. */
  #rawStore(): Store {
    const given = this.#given.store
    if (given !== undefined) return given
    this.#ownStore ??= lazyStoreFromEnv(this.#deps.env)
    return this.#ownStore
  }

  /** Locks and elections, defaulting to the service's namespace. */
  get sync(): Sync {
    if (this.#sync === undefined) {
      const given = this.#given.sync
      if (given === undefined) this.#ownSync = lazySyncFromEnv(this.#deps.env)
      this.#sync = namespacedSync(given ?? (this.#ownSync as Sync), this.#deps.namespace)
    }
    return this.#sync
  }

  /** The loaded config; throws before `loadConfig()` (which `start()` calls) has finished. */
  get config(): Config {
    const config = this.#given.config ?? this.#config
    if (config === undefined) {
      throw new Error(
        'service.config is loaded when the service starts: await service.loadConfig() (or start()) first',
      )
    }
    return config
  }

  /**
   * Load the config, once: the file from MICRO_CONFIG_FILE < the namespace's store document
   * (`micro config set`) < env under the service's prefix < flags.
   */
  loadConfig(): Promise<Config> {
    if (this.#given.config) return Promise.resolve(this.#given.config)
    this.#configLoading ??= loadServiceConfig({
      name: this.#deps.name,
      env: this.#deps.env,
      logger: this.#deps.logger,
      store: storeKV(this.#rawStore()),
      namespace: this.#deps.namespace,
    }).then((config) => {
      this.#config = config
      return config
    })
    return this.#configLoading
  }

  /**
   * Give up locks and leadership early in a shutdown, so other instances take over while
   * this one drains (only if this service made its sync).
   */
  async releaseLocks(): Promise<void> {
    const sync = this.#ownSync
    this.#ownSync = undefined
    await sync?.close().catch((error: unknown) => this.#deps.logger.warn('closing sync failed', { error }))
  }

  /** Close the blocks this service made (not the ones it was given). */
  async close(): Promise<void> {
    const closing: Promise<unknown>[] = []
    if (this.#ownStore) closing.push(this.#ownStore.close())
    if (this.#ownSync) closing.push(this.#ownSync.close())
    this.#ownStore = undefined
    this.#ownSync = undefined
    if (this.#broker && this.#broker !== this.#given.broker) closing.push(this.#broker.close())
    this.#wrappedBroker = undefined
    if (this.#events && this.#events !== this.#given.events) closing.push(this.#events.close())
    if (this.#config && this.#config !== this.#given.config) closing.push(this.#config.close())
    const results = await Promise.allSettled(closing)
    for (const result of results) {
      if (result.status === 'rejected')
        this.#deps.logger.warn('closing a building block failed', { error: result.reason })
    }
  }
}
