import { platformAddress } from '../engines/platform.js'
import type { Logger } from '../logger/logger.js'
import type { RegistryCache } from '../registry/cache.js'
import type { Registry } from '../registry/registry.js'
import type { Transport } from '../transport/transport.js'
import { AmqpBroker } from './amqp.js'
import type { Broker } from './broker.js'
import { DefaultBroker } from './default.js'
import { BROKER_ENGINES } from './engine-names.js'
import { MemoryBroker, sharedMemoryHub } from './memory.js'
import { MqttBroker } from './mqtt.js'
import { NatsBroker } from './nats.js'
import { RedisBroker } from './redis.js'
import { ServiceBroker } from './service.js'

export { BROKER_ENGINES, BROKER_NAMES } from './engine-names.js'

/** What brokers built by name may need. */
export interface BrokerDeps {
  /** The default broker registers and finds subscriptions here (required for it). */
  registry?: Registry
  /** The default broker reads the registry through this cache (e.g. the service client's). */
  lookup?: RegistryCache
  /** The default broker delivers over this transport. Default: one of its own. */
  transport?: Transport
  /** Registry namespace of the default broker, and the namespace of the service broker's topics. Default `micro`. */
  namespace?: string
  /** NATS broker: send what one turn publishes to a subject as one NATS message (`MICRO_BROKER_BATCH`, default true). */
  batch?: boolean
  logger?: Logger
}

/**
 * A broker by name, as `MICRO_BROKER` / `MICRO_BROKER_ADDRESS` configure it:
 *
 * - `default`: no server; subscriptions in the registry, delivery over the transport.
 *   `address` is where its listener binds (default `127.0.0.1:0`).
 * - `memory`: in this process; every memory broker made here shares one hub.
 * - `nats` (`nats://127.0.0.1:4222`), `redis` (`redis://127.0.0.1:6379`), `amqp` or
 *   `rabbitmq` (`amqp://guest:guest@127.0.0.1:5672`), `mqtt` (`mqtt://127.0.0.1:1883`):
 *   `address` is the server's URL. They connect on first use (or `connect()`).
 * - `service`: the broker of a platform (`micro server`); `address` is its platform port
 *   `host:port` (default MICRO_PLATFORM, else `127.0.0.1:8081`); topics live in
 *   `deps.namespace`.
 *
 * Throws a TypeError naming the known engines for any other name.
 */
export function createBroker(name?: string, address?: string, deps: BrokerDeps = {}): Broker {
  const { logger } = deps
  switch (BROKER_ENGINES.pick(name)) {
    case 'default': {
      if (!deps.registry) throw new TypeError('the default broker needs a registry (deps.registry)')
      return new DefaultBroker({
        registry: deps.registry,
        lookup: deps.lookup,
        transport: deps.transport,
        namespace: deps.namespace,
        address,
        logger,
      })
    }
    case 'memory':
      return new MemoryBroker({ hub: sharedMemoryHub(), logger })
    case 'nats':
      return new NatsBroker({ address, logger, batch: deps.batch })
    case 'redis':
      return new RedisBroker({ address, logger })
    case 'amqp':
      return new AmqpBroker({ address, logger })
    case 'mqtt':
      return new MqttBroker({ address, logger })
    case 'service':
      return new ServiceBroker({ address, namespace: deps.namespace, logger })
  }
}

/**
 * The broker `MICRO_BROKER` and `MICRO_BROKER_ADDRESS` name (the default broker when unset,
 * the platform's when only MICRO_PLATFORM is set).
 * `MICRO_BROKER_BATCH=false` makes the NATS broker send one plain NATS message per publish.
 * An unknown name is a TypeError such as `MICRO_BROKER=kafka: unknown broker engine; known: ...`.
 */
export function brokerFromEnv(deps: BrokerDeps = {}, env: NodeJS.ProcessEnv = process.env): Broker {
  const name = BROKER_ENGINES.fromEnv(env, 'MICRO_BROKER')
  const batch = parseBatch(env.MICRO_BROKER_BATCH)
  const address = env.MICRO_BROKER_ADDRESS || undefined
  return createBroker(name, name === 'service' ? platformAddress(address, env) : address, {
    ...deps,
    batch: deps.batch ?? batch,
  })
}

function parseBatch(value: string | undefined): boolean | undefined {
  const text = value?.trim().toLowerCase()
  if (!text) return undefined
  if (text === 'true' || text === '1') return true
  if (text === 'false' || text === '0') return false
  throw new TypeError(`MICRO_BROKER_BATCH must be true or false, not "${value}"`)
}
