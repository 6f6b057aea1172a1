import type { ServiceAuthOptions } from '../auth/service-option.js'
import type { ServiceTlsOptions } from '../auth/tls/settings.js'
import type { Broker } from '../broker/broker.js'
import type { RetryOptions } from '../client/retry.js'
import type { ClientWrapper } from '../client/wrappers.js'
import type { Codecs } from '../codec/codecs.js'
import type { Config } from '../config/config.js'
import type { Table } from '../definition/table.js'
import type { Events } from '../events/events.js'
import type { Logger } from '../logger/logger.js'
import type { Registry } from '../registry/registry.js'
import type { ResilienceSpec } from '../resilience/policy.js'
import type { Resilience } from '../resilience/resilience.js'
import type { Selector } from '../selector/selector.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import type { ServerLimits } from '../transport/limits.js'
import type { Transport } from '../transport/transport.js'
import type { Extensions } from './extensions.js'

/** Everything `createService` takes. Unset options come from MICRO_* variables, then defaults. */
export interface ServiceOptions {
  name: string
  /** Default `latest`. */
  version?: string
  metadata?: Record<string, string>
  /** Registry namespace. MICRO_NAMESPACE, default `micro`. */
  namespace?: string
  /** `host:port` to listen on. MICRO_SERVER_ADDRESS, default `127.0.0.1:0` (any free port on loopback). */
  address?: string
  /** `host:port` to publish when it differs from the bound address (NAT, containers). MICRO_SERVER_ADVERTISE. */
  advertise?: string
  /** MICRO_REGISTRY (+ MICRO_REGISTRY_ADDRESS), default mDNS on loopback. */
  registry?: Registry
  /** MICRO_TRANSPORT (+ MICRO_TRANSPORT_ADDRESS): `micro` (default, TCP) or `nats`. */
  transport?: Transport
  /** MICRO_SELECTOR, default least-in-flight. */
  selector?: Selector
  codecs?: Codecs
  /** How long a registration lives without renewal, ms. MICRO_REGISTER_TTL, default 30 s. */
  registerTtl?: number
  /** How often the registration is renewed, ms. MICRO_REGISTER_INTERVAL, default 10 s. */
  registerInterval?: number
  /** How long a shutdown waits for calls in flight, ms. MICRO_SHUTDOWN_TIMEOUT, default 10 s. */
  shutdownTimeout?: number
  /** Stop gracefully on SIGINT/SIGTERM in `run()`. Default true. */
  handleSignals?: boolean
  /** Largest frame or HTTP body accepted, bytes. MICRO_SERVER_MAX_FRAME_SIZE, default 4 MiB. */
  maxFrameSize?: number
  /**
   * What one connection may make the service port hold, and which web origins may call it
   * (see ServerLimits; each field also has a MICRO_SERVER_* variable). `false` (or
   * MICRO_SERVER_LIMITS=off) turns every resource limit off; the cross-site rules stay.
   */
  limits?: Partial<ServerLimits> | false
  /**
   * Auth (src/auth): `true` or options check every call's token against the platform's
   * rules (also MICRO_AUTH=on); credentials (or MICRO_AUTH_ID/MICRO_AUTH_SECRET) make the
   * service call on with its own identity. `false` turns both off. Default: off.
   */
  auth?: boolean | ServiceAuthOptions
  /**
   * TLS on the service port, mutual between services (src/auth/tls): `true` or options
   * (also MICRO_TLS=on); on by default when the service binds a non-loopback address.
   * The certificate comes from MICRO_TLS_CERT/MICRO_TLS_KEY/MICRO_TLS_CA, or from the
   * platform's CA (MICRO_PLATFORM with the service's credentials). `false` turns it off.
   */
  tls?: boolean | ServiceTlsOptions
  /** Server middleware. */
  wrappers?: HandlerWrapper[]
  /** Client middleware for `service.client`. */
  clientWrappers?: ClientWrapper[]
  /** Default timeout of calls made by `service.client`, ms. MICRO_CLIENT_REQUEST_TIMEOUT, default 30 s. */
  requestTimeout?: number
  retry?: RetryOptions
  /**
   * Named resilience policies (src/resilience): timeouts, retries, circuit breakers,
   * bulkheads and hedging on `service.client`'s calls; bulkheads and rate limits on the
   * calls this service serves. MICRO_RESILIENCE_FILE names a JSON/YAML/TOML file of them
   * (what a platform hands every service).
   */
  resilience?: Resilience | ResilienceSpec
  logger?: Logger
  /** The broker for `subscribe` and `client.publish`. MICRO_BROKER (+ _ADDRESS), default: no server needed. */
  broker?: Broker
  /** Durable event streams. MICRO_EVENTS (+ _ADDRESS), default: file-backed, no server needed. */
  events?: Events
  /** Key/value store. MICRO_STORE (+ _ADDRESS), default: file-backed (lmdb), no server needed. */
  store?: Store
  /** Locks and leader election. MICRO_SYNC (+ _ADDRESS), default: file (every process on this machine). */
  sync?: Sync
  /**
   * The service's config; default: MICRO_CONFIG_FILE < the namespace's store document
   * (`micro config set`) < `<SERVICE>__*` env < flags, loaded at start and watched.
   */
  config?: Config
  /**
   * Where `service.store` calls go when they name no database or table. Default: database
   * and table `micro` (Go Micro's); a service.toml service gets its own table (its name).
   */
  storeTable?: string
  /**
   * Cross-cutting features from `src/features`, enabled by name: `tracing` (spans and W3C
   * trace context through calls and publishes), `metrics` (Prometheus text; `{ port, host,
   * path }`, default 127.0.0.1:9464/metrics, advertised as node metadata `metrics`),
   * `health` (readiness checks through `service.features.health.addCheck`; `{ timeout }`).
   * `true` enables one with its defaults; a table configures it as `[features.<name>]`
   * would in a service.toml.
   */
  features?: ServiceFeatures
  /** The variables MICRO_* settings and blocks are read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /**
   * Open the transport listener (default true). A process that serves no RPC (a
   * service.toml service with only an http kind) registers its HTTP address instead.
   */
  listen?: boolean
  /**
   * @internal Middleware, routes and health state filled by features run elsewhere (the
   * service.toml runtime runs them for every kind of the process).
   */
  extensions?: Extensions
}

/** The features `createService` can run, by name (a custom one registered with registerFeature too). */
export interface ServiceFeatures {
  tracing?: boolean | Table
  metrics?: boolean | { port?: number; host?: string; path?: string }
  health?: boolean | { timeout?: string | number }
  [feature: string]: boolean | Table | undefined
}
