import type { Redis, RedisOptions } from 'ioredis'
import { MicroError, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { importPeer } from '../util/optional-import.js'
import type { Broker, DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { decodeEnvelope, encodeEnvelope } from './envelope.js'
import { outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { GroupConsumer, JOIN_SCRIPT, PUBLISH_SCRIPT } from './redis-group.js'
import { type LocalSubscription, newSubscription, unsubscribeAll } from './subscription.js'

type RedisModule = typeof import('ioredis')
type Scripted = Redis & {
  microPublish(
    groups: string,
    channel: string,
    payload: Buffer,
    prefix: string,
    ttl: number,
    max: number,
  ): Promise<number>
  microJoin(groups: string, group: string, ttl: number): Promise<number>
}

export interface RedisBrokerOptions {
  /** `redis://[user:pass@]host:port[/db]`. Default `redis://127.0.0.1:6379`. */
  address?: string
  /** Extra ioredis options. */
  connectOptions?: RedisOptions
  /** Prefix of the keys queue groups use. Default `micro:broker:`. */
  prefix?: string
  /** How long a queue group keeps receiving after its last member left, ms. Default 30 000. */
  groupTtl?: number
  /** How long undelivered queue-group messages are kept, ms. Default one day. */
  queueTtl?: number
  /** Most messages waiting per queue group; older ones are dropped past it. Default 100 000. */
  maxQueueLength?: number
  /** Longest single BRPOP, seconds (the bound on noticing a lost unblock). Default 2. */
  blockSeconds?: number
  logger?: Logger
}

/**
 * Redis. Plain subscribers use pub/sub on a channel named after the topic: at most once, a
 * subscriber that is disconnected misses what is published meanwhile. Pub/sub cannot give
 * a message to just one member, so each queue group has a list (`<prefix>queue:<topic>:<group>`)
 * fed by publish and popped (BRPOP) by its members: exactly one member gets each message, and
 * messages wait in the list while the group has no member, for up to `groupTtl` after the
 * last member left (groups are kept in a sorted set `<prefix>groups:<topic>` with an expiry
 * each member renews). A nack on a queue-group message (requeue) puts it back in the list;
 * ack and plain-subscriber nack are no-ops. Messages are envelopes (headers + body, see
 * envelope.ts). Connections reconnect forever; subscriptions are restored.
 */
export class RedisBroker implements Broker {
  readonly name = 'redis'
  readonly #options: RedisBrokerOptions
  readonly #prefix: string
  readonly #groupTtl: number
  readonly #logger: Logger
  readonly #subs = new Set<LocalSubscription>()
  /** Plain subscriptions by channel. */
  readonly #plain = new Map<string, Set<LocalSubscription>>()
  /** Groups this broker keeps alive: zset key -> group -> members here. */
  readonly #groups = new Map<string, Map<string, number>>()
  #commands: Promise<Scripted> | undefined
  #subscriber: Promise<Redis> | undefined
  #renewal: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: RedisBrokerOptions = {}) {
    this.#options = options
    this.#prefix = options.prefix ?? 'micro:broker:'
    this.#groupTtl = options.groupTtl ?? 30_000
    this.#logger = options.logger ?? createLogger({ fields: { component: 'broker', broker: 'redis' } })
  }

  async connect(): Promise<void> {
    await this.#connect()
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const redis = await this.#connect()
    const payload = encodeEnvelope(outgoingHeaders(topic, message.headers), message.body)
    try {
      await redis.microPublish(
        this.#groupsKey(topic),
        topic,
        payload,
        `${this.#prefix}queue:${topic}:`,
        this.#options.queueTtl ?? 86_400_000,
        this.#options.maxQueueLength ?? 100_000,
      )
    } catch (error) {
      throw this.#failure(error)
    }
  }

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.#closed) throw closedError(this.name)
    const sub = newSubscription(this.name, this.#subs, this.#logger, topic, handler, options)
    try {
      sub.detach = sub.queue === undefined ? await this.#subscribePlain(sub) : await this.#subscribeGroup(sub)
    } catch (error) {
      await sub.unsubscribe()
      throw this.#failure(error)
    }
    if (this.#closed) {
      await sub.unsubscribe()
      throw closedError(this.name)
    }
    sub.watchSignal()
    return sub
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#renewal) clearInterval(this.#renewal)
    await unsubscribeAll(this.#subs)
    for (const connecting of [this.#subscriber, this.#commands]) {
      const redis = await connecting?.catch(() => undefined)
      // Nothing is left to send (publish awaited its replies), so no QUIT round trip, which
      // would wait for a server that is unreachable.
      redis?.disconnect()
    }
  }

  async #subscribePlain(sub: LocalSubscription): Promise<() => Promise<void>> {
    const subscriber = await this.#listen()
    let set = this.#plain.get(sub.topic)
    if (!set) {
      set = new Set()
      this.#plain.set(sub.topic, set)
    }
    set.add(sub)
    // Every subscribe waits for its SUBSCRIBE reply (a repeat is harmless), so the route is live.
    await subscriber.subscribe(sub.topic)
    return async () => {
      set.delete(sub)
      if (set.size > 0 || this.#plain.get(sub.topic) !== set) return
      this.#plain.delete(sub.topic)
      await subscriber.unsubscribe(sub.topic).catch(() => {})
    }
  }

  async #subscribeGroup(sub: LocalSubscription): Promise<() => Promise<void>> {
    const commands = await this.#connect()
    const queue = sub.queue as string
    const key = this.#groupsKey(sub.topic)
    await commands.microJoin(key, queue, this.#groupTtl)
    let members = this.#groups.get(key)
    if (!members) {
      members = new Map()
      this.#groups.set(key, members)
    }
    members.set(queue, (members.get(queue) ?? 0) + 1)
    this.#renewal ??= setInterval(() => void this.#renew(), Math.max(100, this.#groupTtl / 3)).unref()
    const blocking = commands.duplicate({ maxRetriesPerRequest: null, connectionName: 'micro-broker-group' })
    blocking.on('error', (error: unknown) =>
      this.#logger.debug('redis broker group connection error', { error }),
    )
    const consumer = new GroupConsumer({
      sub,
      list: `${this.#prefix}queue:${sub.topic}:${queue}`,
      blocking,
      commands,
      blockSeconds: this.#options.blockSeconds ?? 2,
      logger: this.#logger,
    })
    return async () => {
      const left = (members.get(queue) ?? 1) - 1
      if (left > 0) members.set(queue, left)
      else members.delete(queue)
      await consumer.stop()
    }
  }

  /** Keep this broker's groups alive in Redis while they have members here. */
  async #renew(): Promise<void> {
    const commands = await this.#commands?.catch(() => undefined)
    if (!commands) return
    for (const [key, members] of this.#groups) {
      for (const queue of members.keys()) {
        await commands.microJoin(key, queue, this.#groupTtl).catch((error: unknown) => {
          this.#logger.warn('redis broker: could not renew a queue group', { key, queue, error })
        })
      }
    }
  }

  #listen(): Promise<Redis> {
    this.#subscriber ??= this.#connect().then((commands) => {
      const subscriber = commands.duplicate()
      subscriber.on('error', (error: unknown) =>
        this.#logger.debug('redis broker subscriber connection error', { error }),
      )
      subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer) =>
        this.#receive(channel.toString(), payload),
      )
      return subscriber
    })
    return this.#subscriber
  }

  #receive(channel: string, payload: Buffer): void {
    const subs = this.#plain.get(channel)
    if (!subs || subs.size === 0) return
    let message: ReturnType<typeof decodeEnvelope>
    try {
      message = decodeEnvelope(payload)
    } catch (error) {
      this.#logger.warn('redis broker: dropped a message that is not an envelope', { channel, error })
      return
    }
    for (const sub of subs) {
      sub.inbox.push(
        new BrokerDelivery({
          topic: channel,
          queue: undefined,
          headers: { ...message.headers },
          body: message.body,
        }),
      )
    }
  }

  #groupsKey(topic: string): string {
    return `${this.#prefix}groups:${topic}`
  }

  #connect(): Promise<Scripted> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (!this.#commands) {
      const connecting = this.#open()
      this.#commands = connecting
      connecting.catch(() => {
        if (this.#commands === connecting) this.#commands = undefined
      })
    }
    return this.#commands
  }

  async #open(): Promise<Scripted> {
    const mod = await importPeer<RedisModule>('ioredis', 'the redis broker')
    const address = this.#options.address ?? 'redis://127.0.0.1:6379'
    const redis = new mod.Redis(address, {
      lazyConnect: true,
      connectionName: 'micro-broker',
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...this.#options.connectOptions,
    }) as Scripted
    redis.on('error', (error) => this.#logger.debug('redis broker connection error', { error }))
    redis.defineCommand('microPublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT })
    redis.defineCommand('microJoin', { numberOfKeys: 1, lua: JOIN_SCRIPT })
    try {
      await redis.connect()
    } catch (error) {
      redis.disconnect()
      throw serviceUnavailable(
        'micro.broker',
        `redis broker: cannot connect to ${address}: ${(error as Error).message}`,
      )
    }
    if (this.#closed) {
      redis.disconnect()
      throw closedError(this.name)
    }
    return redis
  }

  #failure(error: unknown): MicroError {
    if (error instanceof MicroError) return error
    if (this.#closed) return closedError(this.name)
    return serviceUnavailable('micro.broker', `redis broker: ${(error as Error).message}`)
  }
}
