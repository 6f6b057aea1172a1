import { LazyValue } from '../util/lazy-value.js'
import type { Broker, DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { BROKER_ENGINES } from './engine-names.js'
import type { BrokerDeps } from './from-env.js'

/**
 * The broker `MICRO_BROKER` names, as `brokerFromEnv` makes it, but with its engine's
 * module imported on the first call: what a service carries, so one that never publishes
 * or subscribes loads no broker. An unknown engine is refused now; the engine's own
 * complaints (a bad address, a bad `MICRO_BROKER_BATCH`) come with the first call.
 */
export function lazyBrokerFromEnv(deps: BrokerDeps, env: NodeJS.ProcessEnv = process.env): Broker {
  const engine = BROKER_ENGINES.fromEnv(env, 'MICRO_BROKER')
  return new LazyBroker(engine, async () => (await import('./from-env.js')).brokerFromEnv(deps, env))
}

/** A {@link Broker} whose implementation is loaded on the first call. */
export class LazyBroker implements Broker {
  readonly name: string
  readonly #broker: LazyValue<Broker>

  constructor(name: string, load: () => Promise<Broker>) {
    this.name = name
    this.#broker = new LazyValue(load)
  }

  async connect(): Promise<void> {
    return (this.#broker.now ?? (await this.#broker.get())).connect()
  }

  publish(topic: string, message: OutgoingMessage): Promise<void> {
    const broker = this.#broker.now
    return broker ? broker.publish(topic, message) : this.#broker.get().then((b) => b.publish(topic, message))
  }

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    return (this.#broker.now ?? (await this.#broker.get())).subscribe(topic, handler, options)
  }

  close(): Promise<void> {
    return this.#broker.close()
  }
}
