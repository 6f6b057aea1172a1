import type { Broker as BrokerEngine } from '../../broker/broker.js'
import { brokerFromEnv } from '../../broker/from-env.js'
import { secretKeyFromEnv } from '../../config/cipher.js'
import { loadConfig } from '../../config/config.js'
import { storeKV } from '../../config/store-kv.js'
import { DEFAULT_PLATFORM_ADDRESS, PLATFORM_ENV, PLATFORM_SERVICE } from '../../engines/platform.js'
import type { Events as EventsEngine } from '../../events/events.js'
import { eventsFromEnv } from '../../events/from-env.js'
import { createLogger, type Logger } from '../../logger/logger.js'
import { registryFromEnv } from '../../registry/from-env.js'
import type { Registry as RegistryEngine } from '../../registry/registry.js'
import type { Extensions } from '../../service/extensions.js'
import type { ServiceFeatures } from '../../service/options.js'
import { createService, type Service } from '../../service/service.js'
import { storeFromEnv } from '../../store/from-env.js'
import type { Store as StoreEngine } from '../../store/store.js'
import { MicroTransport } from '../../transport/micro-transport.js'
import { Broker } from './broker.js'
import { Config } from './config.js'
import { Events } from './events.js'
import { ProxyHandler } from './proxy.js'
import { Registry } from './registry.js'
import { Store } from './store.js'

/** The engines the platform serves; each one not given is made from the server's MICRO_* variables. */
export interface PlatformEngines {
  registry?: RegistryEngine
  broker?: BrokerEngine
  events?: EventsEngine
  store?: StoreEngine
}

/** Options of {@link startPlatformService}. */
export interface PlatformServiceOptions extends PlatformEngines {
  /** `host:port` of the platform port. Default `127.0.0.1:8081`; port 0 picks a free one. */
  address?: string
  /** The server's variables (MICRO_REGISTRY, MICRO_STORE, ...). Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** The key config secrets are sealed with; default MICRO_CONFIG_SECRET_KEY of `env`, read when first needed. */
  secretKey?: () => Buffer
  /** Largest frame or HTTP body the platform port accepts, bytes. Default 4 MiB. */
  maxFrameSize?: number
  /** More handlers served on the platform port (the lead adds `Runtime`, later `Auth`). */
  handlers?: object[]
  /**
   * Called with the service before it starts: add wrappers (auth) and handlers that need
   * options (`service.handle(traces, { name: 'Traces' })`).
   */
  setup?: (service: Service) => void
  /**
   * The service's features. Default none: in particular no tracing, so a server whose
   * environment names a platform or an OTLP endpoint never traces (and exports) its own
   * `Traces.Export` calls in a loop.
   */
  features?: ServiceFeatures
  /** @internal GET routes on the port's HTTP side (`/.well-known/jwks.json`), through the service's extensions. */
  extensions?: Extensions
  logger?: Logger
}

/** A running platform service. */
export interface PlatformService {
  /** The micro service named `platform`. */
  readonly service: Service
  /** `host:port` it serves on. */
  readonly address: string
  /** The engines behind the blocks. */
  readonly engines: Required<PlatformEngines>
  /** Stop serving (gracefully) and close the engines this call made (not those given). */
  close(): Promise<void>
}

const BLOCK_VARIABLES = ['MICRO_REGISTRY', 'MICRO_BROKER', 'MICRO_EVENTS', 'MICRO_STORE'] as const

/**
 * Serve the building blocks as the `platform` service on the platform port (the micro
 * protocol, and HTTP: `POST /Store/Read` with JSON): `Registry`, `Broker`, `Events`,
 * `Store`, `Config` and `Proxy`, plus `handlers`. The blocks run on the engines given, or
 * on those the server's MICRO_* variables name (their embedded defaults when unset). The
 * service registers itself as `platform` in that registry. Resolves once serving.
 */
export async function startPlatformService(options: PlatformServiceOptions = {}): Promise<PlatformService> {
  const env = serverEnv(options.env ?? process.env)
  const logger = options.logger ?? createLogger({ fields: { service: PLATFORM_SERVICE } })
  const made: { close(): Promise<void> }[] = []
  const own = <T extends { close(): Promise<void> }>(engine: T): T => {
    made.push(engine)
    return engine
  }
  const registry = options.registry ?? own(registryFromEnv(env))
  const broker = options.broker ?? own(brokerFromEnv({ registry, logger }, env))
  const events = options.events ?? own(eventsFromEnv(env, { logger }))
  const store = options.store ?? own(storeFromEnv(env))
  const closeMade = async () => {
    await Promise.allSettled(made.reverse().map((engine) => engine.close()))
  }
  // Ends the long-lived streams when closing, so the shutdown is not held by them.
  const closing = new AbortController()
  const streams = { closing: closing.signal }
  let service: Service
  try {
    service = createService({
      name: PLATFORM_SERVICE,
      namespace: 'micro',
      address: options.address ?? DEFAULT_PLATFORM_ADDRESS,
      registry,
      transport: new MicroTransport(
        options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize },
      ),
      maxFrameSize: options.maxFrameSize,
      broker,
      events,
      store,
      // The platform's own settings never come from a platform (it would be asking itself).
      config: await loadConfig({ sources: [], watch: false, env }),
      handleSignals: false,
      // The platform's auth is the server's (platformAuthWrapper through `setup`), never MICRO_AUTH's service wrapper.
      auth: false,
      env,
      features: options.features ?? { tracing: false },
      extensions: options.extensions,
      logger,
    })
    service
      .handle(new Registry(registry, streams))
      .handle(new Broker(broker, streams))
      .handle(new Events(events, streams))
      .handle(new Store(store))
      .handle(new Config(storeKV(store), { secretKey: options.secretKey ?? secretKeyOf(env) }))
      .handle(new ProxyHandler(service.client), { name: 'Proxy' })
    for (const handler of options.handlers ?? []) service.handle(handler)
    options.setup?.(service)
    await service.start()
    // Extensions given by the caller are not the service's own, so it leaves readiness to them.
    if (options.extensions) options.extensions.health.ready = true
  } catch (error) {
    await closeMade()
    throw error
  }
  const running = service
  let stopping: Promise<void> | undefined
  return {
    service: running,
    address: running.address as string,
    engines: { registry, broker, events, store },
    close() {
      stopping ??= (async () => {
        closing.abort()
        await running.stop()
        await running.config.close()
        await closeMade()
      })()
      return stopping
    },
  }
}

/**
 * The server's variables for its own blocks: MICRO_PLATFORM is what services use to find
 * this server, never something the server follows, and a block set to `service` would
 * point the platform at itself.
 */
function serverEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const own: NodeJS.ProcessEnv = { ...env }
  delete own[PLATFORM_ENV]
  for (const variable of BLOCK_VARIABLES) {
    if (own[variable]?.trim().toLowerCase() === 'service')
      throw new TypeError(
        `${variable}=service: the platform serves the ${variable.slice(6).toLowerCase()} itself; name an engine`,
      )
  }
  return own
}

function secretKeyOf(env: NodeJS.ProcessEnv): () => Buffer {
  return () => secretKeyFromEnv(env)
}
