import type { Redis, RedisOptions } from 'ioredis'
import { acquireRedis, type RedisLink } from '../engines/redis.js'
import type { Logger } from '../logger/logger.js'
import { BaseBroker } from './base.js'
import type { OutgoingMessage } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { decodeEnvelope, encodeEnvelope } from './envelope.js'
import { outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { GroupConsumer, JOIN_SCRIPT, PUBLISH_SCRIPT } from './redis-group.js'
import type { LocalSubscription } from './subscription.js'

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

/** Options of {@link RedisBroker}. */
export interface RedisBrokerOptions {
  /** `redis://[user:pass@]host:port[/db]`. Default `redis://127.0.0.1:6379`. */
  address?: string
  /**
   * Extra ioredis options. With them the broker gets a connection of its own instead of
   * the one the process's Redis blocks share.
   */
  connectOptions?: RedisOptions
  /** Prefix of the keys queue groups use. Default `micro:broker:`. */
  prefix?: string
  /** How long a queue group keeps receiving after its last member left, ms. Default 30 000. */
  groupTtl?: number
  /** How long undelivered queue-group messages are kept, ms. Default one day. */
  queueTtl?: number
  /** Most messages waiting per queue group; older ones are dropped past it. Default 100 000. */
  maxQueueLength?: number
  /**
   * How long a publish (or a queue-group join) waits for a lost connection to come back
   * before failing with a 503, ms. Default 5000. One in flight when the connection drops is
   * not sent again (it may have been applied): it fails at once.
   */
  reconnectWait?: number
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
 *
 * Commands (publish, group joins) go over the connection every Redis block of the process
 * shares for the address (src/engines/redis.ts). Pub/sub takes one dedicated connection per
 * broker (a subscribed connection runs no other commands), and each queue-group
 * subscription one more for its blocking BRPOP.
 */
export class RedisBroker extends BaseBroker<RedisLink<Scripted>> {
  readonly #options: RedisBrokerOptions
  readonly #prefix: string
  readonly #groupTtl: number
  readonly #reconnectWait: number
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
    this.#reconnectWait = options.reconnectWait ?? 5000
  }

  /** Publish a message on a topic (see {@link Broker.publish}). */
  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const link = await this.connection()
    const payload = encodeEnvelope(outgoingHeaders(topic, message.headers), message.body)
    try {
      await link.runPatiently(
        (redis) =>
          redis.microPublish(
            this.#groupsKey(topic),
            topic,
            payload,
            `${this.#prefix}queue:${topic}:`,
            this.#options.queueTtl ?? 86_400_000,
            this.#options.maxQueueLength ?? 100_000,
          ),
        this.#reconnectWait,
      )
    } catch (error) {
      throw this.failure(error)
    }
  }

  protected async attach(sub: LocalSubscription): Promise<void> {
    if (sub.queue === undefined) await this.#subscribePlain(sub)
    else await this.#subscribeGroup(sub)
  }

  protected async release(link: RedisLink<Scripted> | undefined): Promise<void> {
    if (this.#renewal) clearInterval(this.#renewal)
    await this.#subscriber?.catch(() => undefined)
    // Closes the subscriber and any blocking connection left, then lets go of the client.
    await link?.release()
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
    const link = await this.connection()
    const commands = link.client
    const queue = sub.queue as string
    const key = this.#groupsKey(sub.topic)
    await link.runPatiently((c) => c.microJoin(key, queue, this.#groupTtl), this.#reconnectWait)
    let members = this.#groups.get(key)
    if (!members) {
      members = new Map()
      this.#groups.set(key, members)
    }
    members.set(queue, (members.get(queue) ?? 0) + 1)
    this.#renewal ??= setInterval(() => void this.#renew(), Math.max(100, this.#groupTtl / 3)).unref()
    // BRPOP waits on the server for as long as it blocks: never give up on it while the
    // connection is down (the loop stops it on unsubscribe).
    const blocking = link.dedicated('broker-group', { maxRetriesPerRequest: null }, (error) =>
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
      link.drop(blocking)
    }
  }

  /** Keep this broker's groups alive in Redis while they have members here. */
  async #renew(): Promise<void> {
    if (this.closed) return
    const commands = (await this.connection().catch(() => undefined))?.client
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
    this.#subscriber ??= this.connection().then((link) => {
      const subscriber = link.dedicated('broker-subscriber', {}, (error) =>
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

  protected async open(): Promise<RedisLink<Scripted>> {
    const link = await acquireRedis<Scripted>({
      address: this.#options.address,
      options: this.#options.connectOptions,
      usedBy: 'the redis broker',
    })
    const redis = link.client
    redis.defineCommand('microPublish', { numberOfKeys: 1, lua: PUBLISH_SCRIPT })
    redis.defineCommand('microJoin', { numberOfKeys: 1, lua: JOIN_SCRIPT })
    try {
      await link.ready()
    } catch (error) {
      await link.release()
      throw this.unreachable(link.where, error)
    }
    if (this.closed) {
      await link.release()
      throw closedError(this.name)
    }
    return link
  }
}
