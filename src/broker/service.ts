import { setTimeout as sleep } from 'node:timers/promises'
import type { ClientStream } from '../client/client-stream.js'
import { acquirePlatform, type PlatformLink, platformAddress } from '../engines/platform.js'
import { MicroError, serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { SettleMessage, SubscribeOutput, WireDelivery } from '../platform/services/broker.js'
import { decodeBytes, encodeBytes, wireRetryLimit } from '../platform/services/wire.js'
import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import { BaseBroker } from './base.js'
import type { DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { type LocalSubscription, newSubscription } from './subscription.js'

const MIN_BACKOFF = 100
const MAX_BACKOFF = 5000

/** Options of {@link ServiceBroker}. */
export interface ServiceBrokerOptions {
  /** The platform, `host:port`. Default MICRO_PLATFORM, else `127.0.0.1:8081`. */
  address?: string
  /** The namespace whose topics this broker uses. Default `micro`. */
  namespace?: string
  logger?: Logger
}

/**
 * The broker of a platform (`micro server`), through its `Broker` service, as Micro v3's
 * service profile did. Each subscription is a stream to the platform holding a
 * subscription of the server's engine; acks and nacks go back on it, so a nack redelivers
 * and dead-letters as that engine does (`retryLimit`, `deadLetter`). Topics live in the
 * broker's namespace. When the platform goes away, subscriptions come back by themselves
 * (backing off from 100 ms to 5 s; what was published meanwhile is not delivered, as with
 * NATS), and a publish fails with a 503.
 */
export class ServiceBroker extends BaseBroker<PlatformLink> {
  /** The platform this engine talks to, `host:port`. */
  readonly address: string
  readonly #namespace: string

  constructor(options: ServiceBrokerOptions = {}) {
    super('service', options.logger)
    this.address = platformAddress(options.address)
    this.#namespace = options.namespace ?? DEFAULT_NAMESPACE
  }

  /** Publish a message on a topic through the platform's `Broker.Publish`. */
  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (this.closed) throw closedError(this.name)
    assertTopic(topic, this.name)
    const link = await this.connection()
    const headers = outgoingHeaders(topic, message.headers)
    await link
      .call('Broker.Publish', { namespace: this.#namespace, topic, headers, body: encodeBytes(message.body) })
      .catch((error: unknown) => {
        throw this.failure(error)
      })
  }

  /** Subscribe to a topic through the platform's `Broker.Subscribe` stream (made again when the platform comes back). */
  override async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (this.closed) throw closedError(this.name)
    const publish = (to: string, message: OutgoingMessage) => this.publish(to, message)
    const sub = newSubscription(this.name, this.subscriptions, this.logger, topic, handler, publish, options)
    const remote = new RemoteSubscription(sub, options, this.#namespace, this.logger)
    try {
      await remote.open(await this.connection())
    } catch (error) {
      await sub.unsubscribe()
      throw this.failure(error)
    }
    if (this.closed) {
      await sub.unsubscribe()
      throw closedError(this.name)
    }
    sub.watchSignal()
    return sub
  }

  protected async open(): Promise<PlatformLink> {
    return acquirePlatform(this.address)
  }

  protected async attach(): Promise<void> {
    throw new Error('the service broker attaches in subscribe()')
  }

  protected async release(link: PlatformLink | undefined): Promise<void> {
    await link?.release()
  }
}

/** One subscription's stream to the platform, opened again when it breaks. */
class RemoteSubscription {
  readonly #sub: LocalSubscription
  readonly #request: Record<string, unknown>
  readonly #logger: Logger
  /** Aborted once unsubscribed: no more reconnects. */
  readonly #ended = new AbortController()
  /** Aborted after the goodbye: cancels whatever stream is still open. */
  readonly #cancel = new AbortController()
  #session: Session | undefined

  constructor(sub: LocalSubscription, options: SubscribeOptions, namespace: string, logger: Logger) {
    this.#sub = sub
    this.#logger = logger
    this.#request = {
      namespace,
      topic: sub.topic,
      queue: sub.queue,
      retryLimit: wireRetryLimit(options.retryLimit),
      deadLetter: options.deadLetter,
    }
    sub.detach = () => this.#end()
  }

  /** Subscribe on the platform; resolves once the engine routes messages to it. */
  async open(link: PlatformLink): Promise<void> {
    this.#session = await this.#connect(link)
    void this.#serve(link)
  }

  /**
   * Unsubscribe: half-close, so the platform settles what this process gave back (the
   * inbox has sent those already) before it lets go of the engine's subscription; cancel
   * if it does not answer in time.
   */
  async #end(): Promise<void> {
    this.#ended.abort()
    await this.#session?.finish(END_WAIT)
    this.#cancel.abort()
  }

  async #connect(link: PlatformLink): Promise<Session> {
    const stream = link.stream<unknown, SubscribeOutput>('Broker.Subscribe', { signal: this.#cancel.signal })
    await stream.send(this.#request)
    const session = new Session(stream, this.#sub)
    await session.ready()
    return session
  }

  /** Take deliveries; when the stream breaks, subscribe again until unsubscribed. */
  async #serve(link: PlatformLink): Promise<void> {
    let delay = MIN_BACKOFF
    const signal = this.#ended.signal
    while (!signal.aborted) {
      const session = this.#session
      if (session) {
        const error = await session.run()
        if (signal.aborted) break
        this.#logger.warn('service broker: the subscription stream broke; subscribing again', {
          topic: this.#sub.topic,
          error,
        })
      }
      this.#session = undefined
      await sleep(delay, undefined, { signal, ref: false }).catch(() => {})
      if (signal.aborted) break
      try {
        this.#session = await this.#connect(link)
        delay = MIN_BACKOFF
      } catch {
        delay = Math.min(delay * 2, MAX_BACKOFF)
      }
    }
  }
}

/** How long an unsubscribe waits for the platform to settle what was given back, ms. */
const END_WAIT = 5000

/** One stream: deliveries in, settlements out and their answers in. */
class Session {
  readonly #stream: ClientStream<unknown, SubscribeOutput>
  readonly #iterator: AsyncIterator<SubscribeOutput>
  readonly #sub: LocalSubscription
  readonly #settling = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>()
  #broken: MicroError | undefined
  #running: Promise<unknown> | undefined

  constructor(stream: ClientStream<unknown, SubscribeOutput>, sub: LocalSubscription) {
    this.#stream = stream
    this.#iterator = stream[Symbol.asyncIterator]()
    this.#sub = sub
  }

  /** Wait for the platform's `{ready}`; rejects with the platform's error (a bad topic is a 400). */
  async ready(): Promise<void> {
    const first = await this.#iterator.next()
    if (first.done || !('ready' in first.value))
      throw serviceUnavailable('micro.broker', 'the platform ended the subscription before it started')
  }

  /** Deliver until the stream ends; resolves with why it ended. */
  run(): Promise<unknown> {
    this.#running ??= this.#run()
    return this.#running
  }

  /** Half-close and wait (up to `ms`) for the platform to end the stream. */
  async finish(ms: number): Promise<void> {
    await this.#stream.closeSend().catch(() => {})
    const running = this.run()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
    clearTimeout(timer)
  }

  async #run(): Promise<unknown> {
    let reason: unknown
    try {
      for (;;) {
        const next = await this.#iterator.next()
        if (next.done) break
        this.#take(next.value)
      }
      reason = serviceUnavailable('micro.broker', 'the platform ended the subscription')
    } catch (error) {
      reason = error
    }
    this.#broken = MicroError.from(reason, 'micro.broker')
    for (const pending of this.#settling.values()) pending.reject(this.#broken)
    this.#settling.clear()
    return reason
  }

  #take(message: SubscribeOutput): void {
    if ('settled' in message || 'error' in message) {
      const pending = this.#settling.get(message.tag)
      this.#settling.delete(message.tag)
      if ('error' in message) pending?.reject(MicroError.from(message.error, 'micro.broker'))
      else pending?.resolve()
      return
    }
    if ('ready' in message) return
    this.#sub.inbox.push(
      new RemoteDelivery(message, this.#sub.queue, (how) => this.#settle(message.tag, how)),
    )
  }

  #settle(tag: number, how: Omit<SettleMessage, 'tag'>): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken)
    return new Promise<void>((resolve, reject) => {
      this.#settling.set(tag, { resolve, reject })
      this.#stream.send({ tag, ...how }).catch((error: unknown) => {
        this.#settling.delete(tag)
        reject(MicroError.from(error, 'micro.broker'))
      })
    })
  }
}

/** Sends one settlement of a delivery to the platform; resolves once the engine did it. */
type SendSettle = (how: Omit<SettleMessage, 'tag'>) => Promise<void>

/**
 * A message from the platform. The platform's engine owns its retries and dead letters, so
 * ack, nack and give-back are sent there as they are, not through this process's retry.
 */
class RemoteDelivery extends BrokerDelivery {
  readonly #send: SendSettle
  #done = false

  constructor(wire: WireDelivery, queue: string | undefined, send: SendSettle) {
    super({
      topic: wire.topic,
      queue,
      headers: wire.headers,
      body: decodeBytes(wire.body, 'body'),
      redelivered: wire.redelivered,
    })
    this.#send = send
  }

  override get settled(): boolean {
    return this.#done
  }

  override settle(ack: boolean, requeue = true): Promise<void> | undefined {
    if (this.#done) return undefined
    this.#done = true
    return this.#send(ack ? { settle: 'ack' } : { settle: 'nack', requeue })
  }

  override release(): Promise<void> | undefined {
    if (this.#done) return undefined
    this.#done = true
    return this.#send({ settle: 'release' })
  }
}
