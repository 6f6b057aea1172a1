import type { Msg, NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node'
import { badRequest, MicroError, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { importPeer } from '../util/optional-import.js'
import type { Broker, DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { incomingHeaders, outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { type LocalSubscription, newSubscription, unsubscribeAll } from './subscription.js'

type NatsModule = typeof import('@nats-io/transport-node')

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
  logger?: Logger
}

/**
 * Core NATS: a topic is a subject, a queue group is a NATS queue group, headers are NATS
 * headers (values must not contain CR/LF and lose surrounding spaces). At most once: the
 * server keeps nothing; a subscriber that is disconnected misses what is published
 * meanwhile, and a message written just before a connection drops is lost. The client
 * reconnects forever and restores subscriptions. `publish` resolves once the message is
 * written to the connection; while the connection is down it waits for the reconnect (up to
 * `reconnectWait`, then a 503), since nats.js discards what it buffered while disconnected.
 * `subscribe` resolves once the server has the subscription (a flush). No acks: ack/nack
 * are no-ops.
 */
export class NatsBroker implements Broker {
  readonly name = 'nats'
  readonly #options: NatsBrokerOptions
  readonly #logger: Logger
  readonly #subs = new Set<LocalSubscription>()
  #connection: Promise<{ nc: NatsConnection; nats: NatsModule }> | undefined
  #closed = false
  /** Resolves when the connection is back; set while it is down. */
  #down: { back: Promise<void>; resolve: () => void } | undefined

  constructor(options: NatsBrokerOptions = {}) {
    this.#options = options
    this.#logger = options.logger ?? createLogger({ fields: { component: 'broker', broker: 'nats' } })
  }

  async connect(): Promise<void> {
    await this.#connect()
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const { nc, nats } = await this.#connect()
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
      throw this.#failure(error)
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

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.#closed) throw closedError(this.name)
    const sub = newSubscription(this.name, this.#subs, this.#logger, topic, handler, options)
    let natsSub: NatsSubscription | undefined
    try {
      const { nc } = await this.#connect()
      natsSub = nc.subscribe(topic, {
        queue: sub.queue,
        callback: (error, msg) => {
          if (error) this.#logger.error('nats subscription failed', { topic, error })
          else this.#receive(sub, msg)
        },
      })
      await nc.flush()
    } catch (error) {
      natsSub?.unsubscribe()
      await sub.unsubscribe()
      throw this.#failure(error)
    }
    sub.detach = async () => natsSub.unsubscribe()
    sub.watchSignal()
    return sub
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await unsubscribeAll(this.#subs)
    const connected = await this.#connection?.catch(() => undefined)
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
    sub.inbox.push(
      new BrokerDelivery({
        topic: msg.subject,
        queue: sub.queue,
        headers: incomingHeaders(msg.headers ?? []),
        body: new Uint8Array(msg.data),
      }),
    )
  }

  #connect(): Promise<{ nc: NatsConnection; nats: NatsModule }> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (!this.#connection) {
      const connecting = this.#open()
      this.#connection = connecting
      connecting.catch(() => {
        if (this.#connection === connecting) this.#connection = undefined
      })
    }
    return this.#connection
  }

  async #open(): Promise<{ nc: NatsConnection; nats: NatsModule }> {
    const nats = await importPeer<NatsModule>('@nats-io/transport-node', 'the nats broker')
    if (this.#options.connection) return { nc: this.#options.connection, nats }
    const address = this.#options.address ?? 'nats://127.0.0.1:4222'
    let nc: NatsConnection
    try {
      nc = await nats.connect({
        servers: address.split(',').map((s) => s.trim()),
        name: 'micro-broker',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        ...this.#options.connectOptions,
      })
    } catch (error) {
      throw serviceUnavailable(
        'micro.broker',
        `nats broker: cannot connect to ${address}: ${(error as Error).message}`,
      )
    }
    void this.#watch(nc)
    if (this.#closed) {
      await nc.close()
      throw closedError(this.name)
    }
    return { nc, nats }
  }

  /** Log connection changes, so a cut is visible. */
  async #watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') {
        this.#logger.warn('nats broker disconnected; reconnecting')
        if (!this.#down) {
          let resolve = () => {}
          const back = new Promise<void>((r) => {
            resolve = r
          })
          this.#down = { back, resolve }
        }
      } else if (status.type === 'reconnect' || status.type === 'close') {
        if (status.type === 'reconnect') this.#logger.info('nats broker reconnected')
        this.#down?.resolve()
        this.#down = undefined
      }
    }
  }

  #failure(error: unknown): MicroError {
    if (error instanceof MicroError) return error
    if (this.#closed) return closedError(this.name)
    return serviceUnavailable('micro.broker', `nats broker: ${(error as Error).message}`)
  }
}
