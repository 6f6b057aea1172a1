import type { Broker } from '../broker/broker.js'
import type { Events } from '../events/events.js'
import type { Store } from '../store/store.js'

/** Factories of the building blocks a service may use; each is called on first use only. */
export interface BlockFactories {
  broker?: () => Broker
  events?: () => Events
  store?: () => Store
}

/**
 * The broker, events and store of one service process, made on first use (a service that
 * never touches them opens nothing) and closed when it stops. The broker handed out is
 * wrapped by the features (tracing carries the trace context through publishes).
 */
export class Blocks {
  readonly #factories: BlockFactories
  readonly #brokerWrappers: readonly ((broker: Broker) => Broker)[]
  #broker: { raw: Broker; wrapped: Broker } | undefined
  #events: Events | undefined
  #store: Store | undefined

  constructor(factories: BlockFactories, brokerWrappers: readonly ((broker: Broker) => Broker)[]) {
    this.#factories = factories
    this.#brokerWrappers = brokerWrappers
  }

  get broker(): Broker {
    if (!this.#broker) {
      const raw = this.#make('broker', this.#factories.broker)
      this.#broker = { raw, wrapped: this.#brokerWrappers.reduceRight((b, wrap) => wrap(b), raw) }
    }
    return this.#broker.wrapped
  }

  get events(): Events {
    this.#events ??= this.#make('events', this.#factories.events)
    return this.#events
  }

  get store(): Store {
    this.#store ??= this.#make('store', this.#factories.store)
    return this.#store
  }

  /** Close what was made, in reverse order of dependence (store, events, broker). */
  async close(): Promise<void> {
    const made = [this.#store, this.#events, this.#broker?.raw].filter((b) => b !== undefined)
    this.#store = undefined
    this.#events = undefined
    this.#broker = undefined
    const results = await Promise.allSettled(made.map((b) => b.close()))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
  }

  #make<T>(name: string, factory: (() => T) | undefined): T {
    if (!factory) throw new TypeError(`no ${name} is configured for this service`)
    return factory()
  }
}
