import type { Broker } from '../broker/broker.js'
import type { RetryOptions } from '../client/retry.js'
import type { ClientWrapper } from '../client/wrappers.js'
import type { Codecs } from '../codec/codecs.js'
import type { Config } from '../config/config.js'
import type { Events } from '../events/events.js'
import type { Logger } from '../logger/logger.js'
import type { Registry } from '../registry/registry.js'
import type { Selector } from '../selector/selector.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import type { ServerLimits } from '../transport/limits.js'
import type { Transport } from '../transport/transport.js'

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
  /** Server middleware. */
  wrappers?: HandlerWrapper[]
  /** Client middleware for `service.client`. */
  clientWrappers?: ClientWrapper[]
  /** Default timeout of calls made by `service.client`, ms. MICRO_CLIENT_REQUEST_TIMEOUT, default 30 s. */
  requestTimeout?: number
  retry?: RetryOptions
  logger?: Logger
  /** The broker for `subscribe` and `client.publish`. MICRO_BROKER (+ _ADDRESS), default: no server needed. */
  broker?: Broker
  /** Durable event streams. MICRO_EVENTS (+ _ADDRESS), default: file-backed, no server needed. */
  events?: Events
  /** Key/value store. MICRO_STORE (+ _ADDRESS), default: file-backed (lmdb), no server needed. */
  store?: Store
  /** Locks and leader election. MICRO_SYNC (+ _ADDRESS), default: in this process. */
  sync?: Sync
  /** The service's config; default: MICRO_CONFIG_FILE < `<SERVICE>_*` env < flags, loaded at start. */
  config?: Config
}
