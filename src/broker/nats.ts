import type { Msg, MsgHdrs, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node'
import { badRequest, serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { importPeer } from '../util/optional-import.js'
import { BaseBroker } from './base.js'
import { BATCH_HEADER, BATCH_VERSION, decodeBatch } from './batch.js'
import type { OutgoingMessage } from './broker.js'
import { Coalescer } from './coalescer.js'
import { BrokerDelivery } from './delivery.js'
import { incomingHeaders, messageHeaders, outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import type { LocalSubscription } from './subscription.js'

type NatsModule = typeof import('@nats-io/transport-node')

interface Connected {
  nc: NatsConnection
  nats: NatsModule
  /** The one header every batch carries, made once. */
  marker: MsgHdrs
}

export interface NatsBrokerOptions {
  /** `nats://host:port`, several separated by commas. Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Extra connection options (user, pass, token, tls, name, ...). */
  connectOptions?: Record<string, unknown>
  /** Use this connection instead of opening one; it is not closed by `close()`. */
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
    if (!connected || this.#options.connection) return
    // drain() sends what is still buffered, then closes; it would wait for a lost connection.
    const { nc } = connected
    if (!this.#down) {
      let timer: NodeJS.Timeout | undefined
      const drained = nc.drain().catch(() => {})
      await Promise.race([drained, new Promise((r) => (timer = setTimeout(r, 2000)))])
      clearTimeout(timer)
    }
    if (!nc.isClosed()) await nc.close()
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
    const nats = await importPeer<NatsModule>('@nats-io/transport-node', 'the nats broker')
    const marker = nats.headers()
    marker.set(BATCH_HEADER, BATCH_VERSION)
    let nc = this.#options.connection
    if (nc === undefined) {
      const address = this.#options.address ?? 'nats://127.0.0.1:4222'
      try {
        nc = await nats.connect({
          servers: address.split(',').map((s) => s.trim()),
          name: 'micro-broker',
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          ...this.#options.connectOptions,
        })
      } catch (error) {
        throw this.unreachable(address, error)
      }
      void this.#watch(nc)
      if (this.closed) {
        await nc.close()
        throw closedError(this.name)
      }
    }
    this.#connected = { nc, nats, marker }
    return this.#connected
  }

  /** Log connection changes, so a cut is visible. */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.logger.warn('nats broker disconnected; reconnecting')
        if (!this.#down) {
          let resolve = () => {}
          const back = new Promise<void>((r) => {
            resolve = r
          })
          this.#down = { back, resolve }
        }
      } else if (status.type === 'reconnect' || status.type === 'close') {
        if (status.type === 'reconnect') this.logger.info('nats broker reconnected')
        this.#down?.resolve()
        this.#down = undefined
      }
    }
  }
}
