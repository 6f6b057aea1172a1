import type { Broker } from '../broker/broker.js'
import type { Client } from '../client/client.js'
import type { Config } from '../config/config.js'
import type { Events } from '../events/events.js'
import type { HealthApi } from '../features/health/api.js'
import type { LoggingApi } from '../features/logging/api.js'
import type { MetricsApi } from '../features/metrics/api.js'
import type { TracingApi } from '../features/tracing/api.js'
import type { Logger } from '../logger/logger.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import type { Table } from './table.js'

/** Who is running: from the toml. */
export interface ServiceInfo {
  readonly name: string
  /** Semver without the leading `v`. */
  readonly version: string
  readonly product: string | undefined
  /** The kinds this process runs, in `types` order. */
  readonly kinds: readonly string[]
  /** Registry namespace of the service and its clients. */
  readonly namespace: string
}

/**
 * The APIs of the built-in features, by name. A custom feature adds its own by
 * augmenting this interface (`declare module 'micro-ts' { interface FeatureApis { x: X } }`).
 */
export interface FeatureApis {
  logging: LoggingApi
  health: HealthApi
  tracing: TracingApi
  metrics: MetricsApi
}

/** The APIs of the enabled features; a feature that is not enabled is undefined. */
export type Features = { readonly [K in keyof FeatureApis]?: FeatureApis[K] }

/**
 * What every kind's factory (and the lifecycle hooks) of a definition receive. The
 * building blocks are the service stack's (`createService`'s), from the same
 * MICRO_<BLOCK> / MICRO_<BLOCK>_ADDRESS variables, each made on first use (memory ones in
 * `testService`).
 */
export interface Deps<Env = Readonly<Record<string, unknown>>, Clients = Readonly<Record<string, unknown>>> {
  readonly env: Env
  readonly clients: Clients
  /** Carries service, version, product and kind on every line. */
  readonly logger: Logger
  readonly features: Features
  /** The toml's free-form `[service]` table. */
  readonly settings: Readonly<Table>
  readonly service: ServiceInfo
  /** Publish/subscribe (MICRO_BROKER), traced when tracing is on. */
  readonly broker: Broker
  /** Durable event streams (MICRO_EVENTS). */
  readonly events: Events
  /** Key-value records (MICRO_STORE) in the service's namespace and own table (its name). */
  readonly store: Store
  /** Locks and leader election (MICRO_SYNC) in the service's namespace. */
  readonly sync: Sync
  /**
   * The service's config: MICRO_CONFIG_FILE < the namespace's store document (`micro config
   * set`) < `<SERVICE>__*` env < flags; `config.watch(path)` follows changes.
   */
  readonly config: Config
  /** The client every kind shares (`clients` are typed proxies on it). */
  readonly client: Client
}

/** Deps of kinds that run code of their own (worker, script): aborted when the service stops. */
export interface RunDeps<Env = Readonly<Record<string, unknown>>, Clients = Readonly<Record<string, unknown>>>
  extends Deps<Env, Clients> {
  readonly signal: AbortSignal
}
