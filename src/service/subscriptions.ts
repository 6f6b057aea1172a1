import type { Broker, Subscription } from '../broker/broker.js'
import { type MessageHandler, type SubscriberOptions, subscribe } from '../broker/subscriber.js'
import type { Codecs } from '../codec/codecs.js'
import type { Logger } from '../logger/logger.js'
import type { EndpointRecord } from '../registry/registry.js'
import type { StandardSchema } from '../server/standard-schema.js'

interface Wanted {
  topic: string
  handler: MessageHandler<unknown>
  options: SubscriberOptions<StandardSchema | undefined>
}

/**
 * A service's subscriptions: declared any time with `service.subscribe`, active while the
 * service runs (from start until stop), and advertised in the registry as subscriber
 * endpoints, as Go Micro does.
 */
export class Subscriptions {
  readonly #wanted: Wanted[] = []
  readonly #active: Subscription[] = []
  #broker: (() => Broker) | undefined
  #context: { service: string; codecs: Codecs | undefined; logger: Logger } | undefined

  /**
   * Declare a subscription; it starts now if the service is running. Resolves true when it
   * became active now (the registration must list it), false when it waits for start. A
   * subscription the broker refuses while running is withdrawn and the call rejects.
   */
  async add(
    topic: string,
    handler: MessageHandler<unknown>,
    options: SubscriberOptions<StandardSchema | undefined>,
  ): Promise<boolean> {
    const wanted: Wanted = { topic, handler, options }
    this.#wanted.push(wanted)
    if (!this.#broker) return false
    try {
      await this.#start(wanted)
    } catch (error) {
      this.#wanted.splice(this.#wanted.indexOf(wanted), 1)
      throw error
    }
    return true
  }

  /** Subscriber endpoints for the registry record. */
  endpoints(): EndpointRecord[] {
    return this.#wanted.map((w) => ({
      name: w.topic,
      metadata: {
        subscriber: 'true',
        topic: w.topic,
        ...(w.options.queue ? { queue: w.options.queue } : {}),
      },
    }))
  }

  /** Start every declared subscription (the service is starting). */
  async start(
    broker: () => Broker,
    context: { service: string; codecs: Codecs | undefined; logger: Logger },
  ) {
    this.#broker = broker
    this.#context = context
    for (const wanted of this.#wanted) await this.#start(wanted)
  }

  /** End every subscription (the service is stopping); declarations stay for a restart. */
  async stop(): Promise<void> {
    this.#broker = undefined
    const active = this.#active.splice(0)
    await Promise.allSettled(active.map((s) => s.unsubscribe()))
  }

  get size(): number {
    return this.#wanted.length
  }

  async #start(wanted: Wanted): Promise<void> {
    const broker = this.#broker as () => Broker
    const context = this.#context as { service: string; codecs: Codecs | undefined; logger: Logger }
    const subscription = await subscribe(broker(), wanted.topic, wanted.handler, {
      ...(wanted.options as SubscriberOptions),
      service: context.service,
      logger: context.logger,
      ...(context.codecs ? { codecs: context.codecs } : {}),
    })
    // The service stopped while this was subscribing: do not leave it running.
    if (this.#broker === undefined) await subscription.unsubscribe()
    else this.#active.push(subscription)
  }
}
