import { MicroError, notFound, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { DEFAULT_NAMESPACE, type NodeRecord, type Registry } from '../registry/registry.js'
import type { Headers } from '../transport/frame.js'
import { MicroTransport } from '../transport/micro-transport.js'
import type { Dispatcher, Listener, Transport } from '../transport/transport.js'
import { uuid } from '../util/ids.js'
import type { Broker, DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { BROKER_KEY, BROKER_KIND, BrokerNodes } from './default-nodes.js'
import { DELIVER_ENDPOINT, receive, SUBSCRIPTION_HEADER } from './default-receive.js'
import { retryable, SetAside } from './default-route.js'
import { BrokerDelivery } from './delivery.js'
import { encodeEnvelope } from './envelope.js'
import { outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { type LocalSubscription, newSubscription, unsubscribeAll } from './subscription.js'

export { DELIVER_ENDPOINT } from './default-receive.js'

/** The registry service whose nodes are the default broker's subscriptions. */
export const DEFAULT_BROKER_SERVICE = 'micro.broker'

export interface DefaultBrokerOptions {
  /** Where subscriptions are registered and found. */
  registry: Registry
  /** Share the service client's cache of the registry. Default: a cache of its own. */
  lookup?: RegistryCache
  /** Carries deliveries and opens the listener. Default: a MicroTransport of its own. */
  transport?: Transport
  /** Registry namespace. Default `micro`. */
  namespace?: string
  /** Where the listener binds, opened on the first subscribe. Default `127.0.0.1:0`. */
  address?: string
  /** `host:port` to register when it differs from the bound address (NAT, 0.0.0.0). */
  advertise?: string
  /** Registry service name of the subscriptions. Default `micro.broker`. */
  service?: string
  /** Registration TTL of a subscription, ms. Default 30 000; renewed every `interval` (10 000). */
  ttl?: number
  interval?: number
  /** How long one delivery call may take, ms. Default 10 000. */
  timeout?: number
  logger?: Logger
}

/**
 * The broker that needs no server. Each subscription is a node of the registry service
 * `micro.broker` (metadata `topic`, `queue`) at this broker's listener, opened on the first
 * subscribe. Publishing looks the nodes up (cached, kept current by watch) and sends the
 * message over the transport: to every plain subscriber, and to one member of each queue
 * group, trying the next member when one cannot be reached, has gone (404) or is draining
 * (503). Subscriptions of this broker get their messages without the network.
 *
 * `publish` resolves once every queue group has taken the message (rejects with a 503 when
 * no member of a group could) and every plain subscriber was tried; a plain subscriber that
 * cannot be reached is logged and skipped. A subscriber answers once the message is queued
 * for its handler (holding the answer while 1024 wait: backpressure), so ack/nack are no-ops
 * and a message is lost if that process dies before handling it: at most once per
 * subscriber. A connection lost after sending is not retried (the message may have arrived).
 */
export class DefaultBroker implements Broker {
  readonly name = 'default'
  readonly #registry: Registry
  readonly #lookup: RegistryCache
  readonly #ownsLookup: boolean
  readonly #transport: Transport
  readonly #ownsTransport: boolean
  readonly #namespace: string
  readonly #service: string
  readonly #address: string
  readonly #advertise: string | undefined
  readonly #timeout: number
  readonly #logger: Logger
  readonly #nodes: BrokerNodes
  readonly #subs = new Set<LocalSubscription>()
  readonly #byId = new Map<string, LocalSubscription>()
  readonly #setAside = new SetAside()
  #listener: Promise<Listener> | undefined
  #closed = false

  constructor(options: DefaultBrokerOptions) {
    if (!options?.registry) throw new TypeError('the default broker needs a registry')
    this.#registry = options.registry
    this.#ownsLookup = options.lookup === undefined
    this.#lookup = options.lookup ?? new RegistryCache(options.registry)
    this.#ownsTransport = options.transport === undefined
    this.#transport = options.transport ?? new MicroTransport()
    this.#namespace = options.namespace ?? DEFAULT_NAMESPACE
    this.#service = options.service ?? DEFAULT_BROKER_SERVICE
    this.#address = options.address ?? '127.0.0.1:0'
    this.#advertise = options.advertise
    this.#timeout = options.timeout ?? 10_000
    this.#logger = options.logger ?? createLogger({ fields: { component: 'broker', broker: 'default' } })
    this.#nodes = new BrokerNodes({
      registry: this.#registry,
      namespace: this.#namespace,
      service: this.#service,
      ttl: options.ttl ?? 30_000,
      interval: options.interval ?? 10_000,
      logger: this.#logger,
    })
  }

  async connect(): Promise<void> {
    if (this.#closed) throw closedError(this.name)
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (this.#closed) throw closedError(this.name)
    assertTopic(topic, this.name)
    const headers = outgoingHeaders(topic, message.headers)
    const nodes = await this.#targets(topic)
    if (nodes.length === 0) return
    const envelope = encodeEnvelope(headers, message.body)
    const groups = new Map<string, NodeRecord[]>()
    const sends: Promise<void>[] = []
    for (const node of nodes) {
      const queue = node.metadata.queue
      if (queue === undefined) {
        sends.push(this.#toPlain(node, headers, message.body, envelope))
        continue
      }
      const members = groups.get(queue)
      if (members) members.push(node)
      else groups.set(queue, [node])
    }
    for (const [queue, members] of groups)
      sends.push(this.#toGroup(topic, queue, members, headers, message.body, envelope))
    const results = await Promise.allSettled(sends)
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
  }

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.#closed) throw closedError(this.name)
    const sub = newSubscription(this.name, this.#subs, this.#logger, topic, handler, options)
    const id = `${this.#service}-${uuid()}`
    try {
      const listener = await this.#listen()
      if (this.#closed) throw closedError(this.name)
      this.#byId.set(id, sub)
      await this.#nodes.add(id, this.#advertise ?? listener.address, topic, sub.queue)
    } catch (error) {
      this.#byId.delete(id)
      await sub.unsubscribe()
      throw MicroError.from(error, 'micro.broker')
    }
    sub.detach = async () => {
      this.#byId.delete(id)
      try {
        await this.#nodes.remove(id)
      } catch (error) {
        this.#logger.warn('could not deregister a broker subscription', { topic, error })
      }
    }
    sub.watchSignal()
    return sub
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await unsubscribeAll(this.#subs)
    this.#nodes.close()
    const listener = await this.#listener?.catch(() => undefined)
    await listener?.close()
    if (this.#ownsLookup) await this.#lookup.close()
    if (this.#ownsTransport) await this.#transport.close()
  }

  /** The registered subscriptions to the topic, plus this broker's own (known before the registry says). */
  async #targets(topic: string): Promise<NodeRecord[]> {
    const found = new Map<string, NodeRecord>()
    try {
      for (const record of await this.#lookup.getService(this.#service, this.#namespace)) {
        for (const node of record.nodes) {
          if (node.metadata[BROKER_KEY] === BROKER_KIND && node.metadata.topic === topic)
            found.set(node.id, node)
        }
      }
    } catch (error) {
      if (!(error instanceof MicroError && error.code === 404)) throw error
    }
    for (const [id, sub] of this.#byId) {
      if (sub.topic !== topic || found.has(id)) continue
      const metadata: Record<string, string> = { topic }
      if (sub.queue !== undefined) metadata.queue = sub.queue
      found.set(id, { id, address: '', metadata })
    }
    return [...found.values()]
  }

  async #toPlain(node: NodeRecord, headers: Headers, body: Uint8Array, envelope: Uint8Array): Promise<void> {
    try {
      await this.#send(node, headers, body, envelope)
    } catch (error) {
      this.#logger.warn('a subscriber could not take a message; skipped', { node: node.address, error })
    }
  }

  async #toGroup(
    topic: string,
    queue: string,
    members: NodeRecord[],
    headers: Headers,
    body: Uint8Array,
    envelope: Uint8Array,
  ): Promise<void> {
    let last: unknown
    for (const node of this.#setAside.order(members)) {
      try {
        await this.#send(node, headers, body, envelope)
        return
      } catch (error) {
        last = error
        // A lost connection may have delivered it: trying another member could deliver twice.
        if (!retryable(error)) break
        this.#setAside.mark(node.id, MicroError.from(error).code === 404 ? 30_000 : 5000)
      }
    }
    throw serviceUnavailable(
      'micro.broker',
      `no member of queue group ${queue} on ${topic} took the message: ${MicroError.from(last).detail}`,
    )
  }

  async #send(node: NodeRecord, headers: Headers, body: Uint8Array, envelope: Uint8Array): Promise<void> {
    const local = this.#byId.get(node.id)
    if (local) {
      await local.inbox.whenRoom()
      if (!local.active) throw notFound('micro.broker', `subscription ${node.id} has ended`)
      local.inbox.push(
        new BrokerDelivery({
          topic: local.topic,
          queue: local.queue,
          headers: { ...headers },
          body: new Uint8Array(body),
        }),
      )
      return
    }
    // No address: one of ours that ended between the lookup and now.
    if (node.address === '') throw notFound('micro.broker', `subscription ${node.id} has ended`)
    await this.#transport.call(node.address, {
      endpoint: DELIVER_ENDPOINT,
      headers: { [SUBSCRIPTION_HEADER]: node.id },
      body: envelope,
      timeout: this.#timeout,
      signal: undefined,
    })
  }

  #listen(): Promise<Listener> {
    if (!this.#listener) {
      const listening = this.#transport.listen(this.#address, this.#dispatcher())
      this.#listener = listening
      listening.catch(() => {
        if (this.#listener === listening) this.#listener = undefined
      })
    }
    return this.#listener
  }

  #dispatcher(): Dispatcher {
    return {
      unary: (call) => receive(call, this.#byId),
      stream: (_call, channel) =>
        channel.fail(notFound('micro.broker', 'the broker takes deliveries as unary calls only')),
    }
  }
}
