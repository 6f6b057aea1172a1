import type { Redis, RedisOptions } from 'ioredis'
import type { Logger } from '../logger/logger.js'
import { importPeer } from '../util/optional-import.js'
import { BaseBroker } from './base.js'
import type { OutgoingMessage } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { decodeEnvelope, encodeEnvelope } from './envelope.js'
import { outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { GroupConsumer, JOIN_SCRIPT, PUBLISH_SCRIPT } from './redis-group.js'
import type { LocalSubscription } from './subscription.js'

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
 * each member renews). A nack on a queue-group message puts it back in the list with its
 * attempt counted; a plain subscriber's is redelivered in this process (retry.ts); ack is a
 * no-op. Messages are envelopes (headers + body, see
 * envelope.ts). Connections reconnect forever; subscriptions are restored.
 */
export class RedisBroker extends BaseBroker<Scripted> {
  readonly #options: RedisBrokerOptions
  readonly #prefix: string
  readonly #groupTtl: number
  /** Plain subscriptions by channel. */
  readonly #plain = new Map<string, Set<LocalSubscription>>()
  /** Groups this broker keeps alive: zset key -> group -> members here. */
  readonly #groups = new Map<string, Map<string, number>>()
  #subscriber: Promise<Redis> | undefined
  #renewal: NodeJS.Timeout | undefined

  constructor(options: RedisBrokerOptions = {}) {
    super('redis', options.logger)
    this.#options = options
    this.#prefix = options.prefix ?? 'micro:broker:'
    this.#groupTtl = options.groupTtl ?? 30_000
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const redis = await this.connection()
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
      throw this.failure(error)
    }
  }

  protected async attach(sub: LocalSubscription): Promise<void> {
    if (sub.queue === undefined) await this.#subscribePlain(sub)
    else await this.#subscribeGroup(sub)
  }

  protected async release(commands: Scripted | undefined): Promise<void> {
    if (this.#renewal) clearInterval(this.#renewal)
    const subscriber = await this.#subscriber?.catch(() => undefined)
    // Nothing is left to send (publish awaited its replies), so no QUIT round trip, which
    // would wait for a server that is unreachable.
    subscriber?.disconnect()
    commands?.disconnect()
  }

  async #subscribePlain(sub: LocalSubscription): Promise<void> {
    const subscriber = await this.#listen()
    let set = this.#plain.get(sub.topic)
    if (!set) {
      set = new Set()
      this.#plain.set(sub.topic, set)
    }
    const subs = set
    subs.add(sub)
    sub.detach = async () => {
      subs.delete(sub)
      if (subs.size > 0 || this.#plain.get(sub.topic) !== subs) return
      this.#plain.delete(sub.topic)
      await subscriber.unsubscribe(sub.topic).catch(() => {})
    }
    // Every subscribe waits for its SUBSCRIBE reply (a repeat is harmless), so the route is live.
    await subscriber.subscribe(sub.topic)
  }

  async #subscribeGroup(sub: LocalSubscription): Promise<void> {
    const commands = await this.connection()
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
      this.logger.debug('redis broker group connection error', { error }),
    )
    const consumer = new GroupConsumer({
      sub,
      list: `${this.#prefix}queue:${sub.topic}:${queue}`,
      blocking,
      commands,
      blockSeconds: this.#options.blockSeconds ?? 2,
      logger: this.logger,
    })
    sub.detach = async () => {
      const left = (members.get(queue) ?? 1) - 1
      if (left > 0) members.set(queue, left)
      else members.delete(queue)
      await consumer.stop()
    }
  }

  /** Keep this broker's groups alive in Redis while they have members here. */
  async #renew(): Promise<void> {
    if (this.closed) return
    const commands = await this.connection().catch(() => undefined)
    if (!commands) return
    for (const [key, members] of this.#groups) {
      for (const queue of members.keys()) {
        await commands.microJoin(key, queue, this.#groupTtl).catch((error: unknown) => {
          this.logger.warn('redis broker: could not renew a queue group', { key, queue, error })
        })
      }
    }
  }

  #listen(): Promise<Redis> {
    this.#subscriber ??= this.connection().then((commands) => {
      const subscriber = commands.duplicate()
      subscriber.on('error', (error: unknown) =>
        this.logger.debug('redis broker subscriber connection error', { error }),
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
      this.logger.warn('redis broker: dropped a message that is not an envelope', { channel, error })
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

  protected async open(): Promise<Scripted> {
    const mod = await importPeer<RedisModule>('ioredis', 'the redis broker')
    const address = this.#options.address ?? 'redis://127.0.0.1:6379'
    const redis = new mod.Redis(address, {
      lazyConnect: true,
      connectionName: 'micro-broker',
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...this.#options.connectOptions,
    }) as Scripted
    redis.on('error', (error) => this.logger.debug('redis broker connection error', { error }))
    redis.defineCommand('microPublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT })
    redis.defineCommand('microJoin', { numberOfKeys: 1, lua: JOIN_SCRIPT })
    try {
      await redis.connect()
    } catch (error) {
      redis.disconnect()
      throw this.unreachable(address, error)
    }
    if (this.closed) {
      redis.disconnect()
      throw closedError(this.name)
    }
    return redis
  }
}
