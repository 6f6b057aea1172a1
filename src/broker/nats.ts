import type {
  Msg,
  MsgHdrs,
  NatsConnection,
  Subscription as NatsSubscription,
  NodeConnectionOptions,
} from '@nats-io/transport-node'
import { acquireNats, loadNats, type NatsLink } from '../engines/nats.js'
import { badRequest, serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { BaseBroker } from './base.js'
import { BATCH_HEADER, BATCH_VERSION, decodeBatch } from './batch.js'
import type { OutgoingMessage } from './broker.js'
import { Coalescer } from './coalescer.js'
import { BrokerDelivery } from './delivery.js'
import { incomingHeaders, messageHeaders, outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import type { LocalSubscription } from './subscription.js'

type NatsModule = typeof import('@nats-io/transport-node')

const USED_BY = 'the nats broker'

interface Connected {
  nc: NatsConnection
  nats: NatsModule
  /** Our handle on the process's connection (or on the given one). */
  link: NatsLink
  stopWatching: () => void
  /** The one header every batch carries, made once. */
  marker: MsgHdrs
}

/** Options of {@link NatsBroker}. */
export interface NatsBrokerOptions {
  /** `nats://host:port`, several separated by commas. Default `nats://127.0.0.1:4222`. */
  address?: string
  /**
   * Extra connection options (user, pass, token, tls, name, ...). With them the broker gets
   * a connection of its own instead of the one the process's NATS blocks share.
   */
  connectOptions?: Record<string, unknown>
  /** Use this connection instead of the process's shared one; it is not closed by `close()`. */
  connection?: NatsConnection
  /**
   * How long a publish waits for a lost connection to come back before failing with a 503,
   * ms. Default 5000. (The client drops what was buffered while disconnected, so publishing
   * then would lose the message silently.)
   */
  reconnectWait?: number
  /**
   * Send what is published in one event-loop turn to one subject as one NATS message (a
   * batch, `micro-batch: 2`). Default true. False: one NATS message per publish, with the
   * headers as NATS headers, which any NATS client can read. Subscribers take both.
   */
  batch?: boolean
  logger?: Logger
}

/**
 * Core NATS: a topic is a subject and a queue group is a NATS queue group. At most once:
 * the server keeps nothing; a subscriber that is disconnected misses what is published
 * meanwhile, and a message written just before a connection drops is lost. The client
 * reconnects forever and restores subscriptions. `publish` resolves once the message is
 * written to the connection; while the connection is down it waits for the reconnect (up to
 * `reconnectWait`, then a 503), since nats.js discards what it buffered while disconnected.
 * `subscribe` resolves once the server has the subscription (a flush). No acks: ack is a
 * no-op and a nack redelivers in this process (retry.ts).
 *
 * Messages published in one event-loop turn to the same subject travel as one NATS message,
 * a batch (batch.ts) marked by the header `micro-batch: 2`, so NATS and both clients handle
 * one message where there were many. A queue group then shares batches: every message of a
 * batch goes to the same member. With `batch: false` each message is its own NATS message,
 * its headers NATS headers (values must not contain CR/LF and lose surrounding spaces).
 * Subscribers take both forms, and plain NATS messages from any client.
 *
 * The connection is the one every NATS block of the process shares for the same servers
 * (src/engines/nats.ts); `close()` flushes what this broker published and lets go of it.
 */
export class NatsBroker extends BaseBroker<Connected> {
  readonly #options: NatsBrokerOptions
  readonly #batching: boolean
  /** Set once connected, so publish need not wait for a promise. */
  #connected: Connected | undefined
  readonly #batches = new Coalescer<string>({
    send: (subject, batch) => this.#sendBatch(subject, batch),
    maxBytes: 64 * 1024,
  })
  /** Resolves when the connection is back; set while it is down. */
  #down: { back: Promise<void>; resolve: () => void } | undefined

  constructor(options: NatsBrokerOptions = {}) {
    super('nats', options.logger)
    this.#options = options
    this.#batching = options.batch ?? true
  }

  /** Publish a message on a topic (see {@link Broker.publish}). */
  publish(topic: string, message: OutgoingMessage): Promise<void> {
    const connected = this.#connected
    if (connected === undefined || this.closed || !this.#batching) return this.#publishOne(topic, message)
    try {
      assertTopic(topic, this.name)
      return this.#batches.add(topic, topic, messageHeaders(topic, message.headers), message.body)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Publish once connected: in a batch, or (`batch: false`) as one NATS message with NATS headers. */
  async #publishOne(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const { nc, nats } = await this.connection()
    if (this.#batching) return this.publish(topic, message)
    const given = outgoingHeaders(topic, message.headers)
    const headers = nats.headers()
    try {
      for (const key in given) headers.set(key, given[key] as string)
    } catch (error) {
      throw badRequest('micro.broker', `nats broker: ${(error as Error).message}`)
    }
    if (this.#down) await this.#whenBack()
    try {
      nc.publish(topic, message.body, { headers })
    } catch (error) {
      throw this.failure(error)
    }
  }

  #sendBatch(subject: string, batch: Buffer): Promise<void> | void {
    if (this.#down) return this.#whenBack().then(() => this.#write(subject, batch))
    this.#write(subject, batch)
  }

  #write(subject: string, batch: Buffer): void {
    const connected = this.#connected
    if (connected === undefined) throw closedError(this.name)
    try {
      connected.nc.publish(subject, batch, { headers: connected.marker })
    } catch (error) {
      throw this.failure(error)
    }
  }

  async #whenBack(): Promise<void> {
    const wait = this.#options.reconnectWait ?? 5000
    let timer: NodeJS.Timeout | undefined
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), wait)
    })
    const outcome = await Promise.race([this.#down?.back, gaveUp])
    clearTimeout(timer)
    if (outcome === 'timeout' && this.#down)
      throw serviceUnavailable(
        'micro.broker',
        `nats broker: not connected (reconnecting for over ${wait} ms)`,
      )
  }

  protected async attach(sub: LocalSubscription): Promise<void> {
    const { nc } = await this.connection()
    const natsSub: NatsSubscription = nc.subscribe(sub.topic, {
      queue: sub.queue,
      callback: (error, msg) => {
        if (error) this.logger.error('nats subscription failed', { topic: sub.topic, error })
        else this.#receive(sub, msg)
      },
    })
    sub.detach = async () => natsSub.unsubscribe()
    await nc.flush()
  }

  protected async release(connected: Connected | undefined): Promise<void> {
    this.#connected = undefined
    if (!connected) return
    connected.stopWatching()
    // What this broker published goes out before it lets go (the connection may live on
    // for other blocks); a lost connection is not waited for.
    if (!this.#down) {
      let timer: NodeJS.Timeout | undefined
      const flushed = connected.nc.flush().catch(() => {})
      await Promise.race([flushed, new Promise((r) => (timer = setTimeout(r, 2000)))])
      clearTimeout(timer)
    }
    this.#down?.resolve()
    this.#down = undefined
    await connected.link.release()
  }

  #receive(sub: LocalSubscription, msg: Msg): void {
    const headers = msg.headers
    if (headers === undefined || !headers.has(BATCH_HEADER)) {
      sub.inbox.push(
        new BrokerDelivery({
          topic: msg.subject,
          queue: sub.queue,
          headers: incomingHeaders(headers ?? []),
          body: new Uint8Array(msg.data),
        }),
      )
      return
    }
    let deliveries: BrokerDelivery[]
    try {
      const version = headers.get(BATCH_HEADER)
      if (version !== BATCH_VERSION)
        throw badRequest('micro.broker', `unsupported broker batch version ${version}`)
      const topic = msg.subject
      deliveries = decodeBatch(
        msg.data,
        (headers, body) => new BrokerDelivery({ topic, queue: sub.queue, headers, body }),
      )
    } catch (error) {
      this.logger.warn('nats broker: dropped a batch it cannot read', { topic: sub.topic, error })
      return
    }
    for (const delivery of deliveries) sub.inbox.push(delivery)
  }

  protected async open(): Promise<Connected> {
    const link = acquireNats({
      address: this.#options.address,
      connection: this.#options.connection,
      options: this.#options.connectOptions as Partial<NodeConnectionOptions> | undefined,
      usedBy: USED_BY,
    })
    let nc: NatsConnection
    let nats: NatsModule
    try {
      ;[nc, nats] = await Promise.all([link.ready, loadNats(USED_BY)])
    } catch (error) {
      await link.release()
      // The engine's message names the servers (without credentials) and why.
      throw serviceUnavailable('micro.broker', `nats broker: ${(error as Error).message}`)
    }
    if (this.closed) {
      await link.release()
      throw closedError(this.name)
    }
    const marker = nats.headers()
    marker.set(BATCH_HEADER, BATCH_VERSION)
    if (!link.connected) this.#markDown()
    const stopWatching = link.onStatus((status) => this.#onStatus(status.type))
    this.#connected = { nc, nats, marker, link, stopWatching }
    return this.#connected
  }

  /** Log connection changes, so a cut is visible, and hold publishes while it is down. */
  #onStatus(type: string): void {
    if (type === 'disconnect') {
      this.logger.warn('nats broker disconnected; reconnecting')
      this.#markDown()
    } else if (type === 'reconnect' || type === 'close') {
      if (type === 'reconnect') this.logger.info('nats broker reconnected')
      this.#down?.resolve()
      this.#down = undefined
    }
  }

  #markDown(): void {
    if (this.#down) return
    let resolve = () => {}
    const back = new Promise<void>((r) => {
      resolve = r
    })
    this.#down = { back, resolve }
  }
}
