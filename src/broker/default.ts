import { MicroError, notFound, serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { DEFAULT_NAMESPACE, type Registry, type ServiceRecord } from '../registry/registry.js'
import { MicroTransport } from '../transport/micro-transport.js'
import type { Dispatcher, Listener, Transport } from '../transport/transport.js'
import { uuid } from '../util/ids.js'
import { BaseBroker } from './base.js'
import { BATCH_HEADER, BATCH_VERSION } from './batch.js'
import type { OutgoingMessage } from './broker.js'
import { Coalescer } from './coalescer.js'
import { BrokerNodes } from './default-nodes.js'
import { acceptBatch, DELIVER_ENDPOINT, receive, SUBSCRIPTION_HEADER } from './default-receive.js'
import { buildRoute, type Route, retryable, SetAside, type Target } from './default-route.js'
import { messageHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import type { LocalSubscription } from './subscription.js'

export { DELIVER_ENDPOINT } from './default-receive.js'

/** The registry service whose nodes are the default broker's subscriptions. */
export const DEFAULT_BROKER_SERVICE = 'micro.broker'

const RESOLVED = Promise.resolve()

/** Options of {@link DefaultBroker}. */
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

/** The route of a topic, valid while the registry answer and this broker's subscriptions are unchanged. */
interface CachedRoute {
  route: Route
  version: number
}

/**
 * The broker that needs no server. Each subscription is a node of the registry service
 * `micro.broker` (metadata `topic`, `queue`) at this broker's listener, opened on the first
 * subscribe. Publishing looks the nodes up (cached, kept current by watch) and sends the
 * message over the transport: to every plain subscriber, and to one member of each queue
 * group (at random), trying the next member when one cannot be reached, has gone (404) or
 * is draining (503). Subscriptions of this broker get their messages without the network.
 *
 * Messages published in one event-loop turn to the same subscription travel together as
 * one call (a batch, batch.ts); each message still picks its own group member.
 *
 * `publish` resolves once every queue group has taken the message (rejects with a 503 when
 * no member of a group could) and every plain subscriber was tried; a plain subscriber that
 * cannot be reached is logged and skipped. A subscriber answers once the message is queued
 * for its handler (holding the answer while 1024 wait: backpressure), so ack is a no-op, a
 * nack redelivers in the subscriber's process (retry.ts), and a message is lost if that process dies before handling it: at most once per
 * subscriber. A connection lost after sending is not retried (the message may have arrived).
 */
export class DefaultBroker extends BaseBroker<void> {
  readonly #lookup: RegistryCache
  readonly #ownsLookup: boolean
  readonly #transport: Transport
  readonly #ownsTransport: boolean
  readonly #namespace: string
  readonly #service: string
  readonly #address: string
  readonly #advertise: string | undefined
  readonly #timeout: number
  readonly #nodes: BrokerNodes
  /** This broker's subscriptions by node id. */
  readonly #byId = new Map<string, LocalSubscription>()
  /** Bumped whenever `#byId` changes, which invalidates cached routes. */
  #version = 0
  readonly #routes = new Map<string, CachedRoute>()
  /** The registry answer the cached routes were built from. */
  #routesFrom: readonly ServiceRecord[] | undefined
  readonly #setAside = new SetAside()
  readonly #batches = new Coalescer<Target>({ send: (target, batch) => this.#sendBatch(target, batch) })
  #listener: Promise<Listener> | undefined

  constructor(options: DefaultBrokerOptions) {
    if (!options?.registry) throw new TypeError('the default broker needs a registry')
    super('default', options.logger)
    this.#ownsLookup = options.lookup === undefined
    this.#lookup = options.lookup ?? new RegistryCache(options.registry)
    this.#ownsTransport = options.transport === undefined
    this.#transport = options.transport ?? new MicroTransport()
    this.#namespace = options.namespace ?? DEFAULT_NAMESPACE
    this.#service = options.service ?? DEFAULT_BROKER_SERVICE
    this.#address = options.address ?? '127.0.0.1:0'
    this.#advertise = options.advertise
    this.#timeout = options.timeout ?? 10_000
    this.#nodes = new BrokerNodes({
      registry: options.registry,
      namespace: this.#namespace,
      service: this.#service,
      ttl: options.ttl ?? 30_000,
      interval: options.interval ?? 10_000,
      logger: this.logger,
    })
  }

  /** Publish a message on a topic (see {@link Broker.publish}). */
  publish(topic: string, message: OutgoingMessage): Promise<void> {
    try {
      if (this.closed) throw closedError(this.name)
      assertTopic(topic, this.name)
      const route = this.#cachedRoute(topic)
      if (route !== undefined) return this.#publishOn(route, topic, message)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#lookupRoute(topic).then((route) => this.#publishOn(route, topic, message))
  }

  protected async open(): Promise<void> {}

  protected async attach(sub: LocalSubscription): Promise<void> {
    const id = `${this.#service}-${uuid()}`
    sub.detach = async () => {
      if (this.#byId.delete(id)) this.#version++
      try {
        await this.#nodes.remove(id)
      } catch (error) {
        this.logger.warn('could not deregister a broker subscription', { topic: sub.topic, error })
      }
    }
    const listener = await this.#listen()
    if (this.closed) throw closedError(this.name)
    this.#byId.set(id, sub)
    this.#version++
    await this.#nodes.add(id, this.#advertise ?? listener.address, sub.topic, sub.queue)
  }

  protected async release(): Promise<void> {
    this.#nodes.close()
    const listener = await this.#listener?.catch(() => undefined)
    await listener?.close()
    if (this.#ownsLookup) await this.#lookup.close()
    if (this.#ownsTransport) await this.#transport.close()
  }

  /** The route of a topic without waiting, when the registry cache is fresh. */
  #cachedRoute(topic: string): Route | undefined {
    const records = this.#lookup.peek(this.#service, this.#namespace)
    if (records === undefined) return undefined
    if (records !== this.#routesFrom) {
      this.#routes.clear()
      this.#routesFrom = records
    }
    const cached = this.#routes.get(topic)
    if (cached !== undefined && cached.version === this.#version) return cached.route
    const route = buildRoute(topic, records, this.#byId)
    this.#routes.set(topic, { route, version: this.#version })
    return route
  }

  async #lookupRoute(topic: string): Promise<Route> {
    let records: readonly ServiceRecord[] = []
    try {
      records = await this.#lookup.getService(this.#service, this.#namespace)
    } catch (error) {
      if (!(error instanceof MicroError && error.code === 404)) throw error
    }
    return buildRoute(topic, records, this.#byId)
  }

  #publishOn(route: Route, topic: string, message: OutgoingMessage): Promise<void> {
    const { plain, groups } = route
    if (plain.length + groups.length === 0) return RESOLVED
    const headers = messageHeaders(topic, message.headers)
    const body = message.body
    if (plain.length === 0 && groups.length === 1) {
      const target = this.#setAside.pick((groups[0] as Route['groups'][number]).members)
      return this.#batches.add(target.node.id, target, headers, body)
    }
    const sends: Promise<void>[] = []
    for (const target of plain) sends.push(this.#batches.add(target.node.id, target, headers, body))
    for (const group of groups) {
      const target = this.#setAside.pick(group.members)
      sends.push(this.#batches.add(target.node.id, target, headers, body))
    }
    return Promise.allSettled(sends).then((results) => {
      const failed = results.find((r) => r.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    })
  }

  /**
   * Send one batch: to a plain subscriber (failure logged and skipped), or to a queue
   * group, starting with the member picked and trying the others while the failure shows
   * that the member did not get it.
   */
  async #sendBatch(target: Target, batch: Buffer): Promise<void> {
    const group = target.group
    if (group === undefined) {
      try {
        await this.#deliver(target, batch)
      } catch (error) {
        this.logger.warn('a subscriber could not take a message; skipped', {
          node: target.node.address,
          error,
        })
      }
      return
    }
    const tried = new Set<string>()
    let member: Target | undefined = target
    let last: unknown
    while (member !== undefined) {
      tried.add(member.node.id)
      try {
        await this.#deliver(member, batch)
        return
      } catch (error) {
        last = error
        // A lost connection may have delivered it: trying another member could deliver twice.
        if (!retryable(error)) break
        this.#setAside.mark(member.node.id, MicroError.from(error).code === 404 ? 30_000 : 5000)
        member = this.#setAside.next(group.members, tried)
      }
    }
    throw serviceUnavailable(
      'micro.broker',
      `no member of queue group ${group.queue} on ${target.topic} took the message: ${MicroError.from(last).detail}`,
    )
  }

  async #deliver(target: Target, batch: Buffer): Promise<void> {
    const node = target.node
    const local = this.#byId.get(node.id)
    if (local) return acceptBatch(local, batch)
    // No address: one of ours that ended between the lookup and now.
    if (node.address === '') throw notFound('micro.broker', `subscription ${node.id} has ended`)
    await this.#transport.call(node.address, {
      endpoint: DELIVER_ENDPOINT,
      headers: { [SUBSCRIPTION_HEADER]: node.id, [BATCH_HEADER]: BATCH_VERSION },
      body: batch,
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
