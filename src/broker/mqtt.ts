import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt'
import { badRequest } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { uuid } from '../util/ids.js'
import { importPeer } from '../util/optional-import.js'
import { BaseBroker } from './base.js'
import type { OutgoingMessage } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { incomingHeaders, outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import type { LocalSubscription } from './subscription.js'

type MqttModule = typeof import('mqtt')

/** One topic filter subscribed on the server, and the local subscriptions behind it. */
interface Filter {
  filter: string
  /** MQTT 5 subscription identifier: tells which filter a message came through. */
  id: number
  shared: boolean
  subs: LocalSubscription[]
  next: number
  ready: Promise<void>
}

/** Options of {@link MqttBroker}. */
export interface MqttBrokerOptions {
  /** `mqtt://host:port` (or mqtts://, ws://). Default `mqtt://127.0.0.1:1883`. */
  address?: string
  /** Extra mqtt.js options (username, password, clientId, ...). */
  connectOptions?: IClientOptions
  logger?: Logger
}

/**
 * MQTT 5 (tested with mosquitto 2). Messages are published with QoS 1, headers as user
 * properties (and content-type also as the contentType property). A queue group is a shared
 * subscription `$share/<group>/<topic>`, which the server delivers to one member. Each
 * broker is one client with a clean session: a subscriber that is disconnected misses what
 * is published meanwhile, so delivery is at most once end to end, though `publish` resolves
 * on the server's PUBACK and mqtt.js resends unacknowledged publishes after a reconnect. The
 * client acknowledges on receipt, so ack is a no-op and a nack redelivers in this process
 * (retry.ts). Subscriptions in one broker to the
 * same filter share one server subscription (fanned out, or round robin for a group).
 */
export class MqttBroker extends BaseBroker<MqttClient> {
  readonly #options: MqttBrokerOptions
  readonly #filters = new Map<string, Filter>()
  readonly #byId = new Map<number, Filter>()
  #nextId = 1

  constructor(options: MqttBrokerOptions = {}) {
    super('mqtt', options.logger)
    this.#options = options
  }

  /** Publish a message on a topic (see {@link Broker.publish}). */
  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const client = await this.connection()
    const headers = outgoingHeaders(topic, message.headers)
    const properties: NonNullable<IPublishPacket['properties']> = { userProperties: headers }
    const contentType = headers['content-type']
    if (contentType) properties.contentType = contentType
    try {
      await client.publishAsync(
        topic,
        Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
        {
          qos: 1,
          properties,
        },
      )
    } catch (error) {
      throw this.failure(error)
    }
  }

  protected async attach(sub: LocalSubscription): Promise<void> {
    const name = sub.queue === undefined ? sub.topic : `$share/${sub.queue}/${sub.topic}`
    const client = await this.connection()
    const filter = this.#filters.get(name) ?? this.#subscribe(client, name, sub.queue !== undefined)
    filter.subs.push(sub)
    sub.detach = () => this.#leave(client, filter, sub)
    await filter.ready
  }

  protected async release(client: MqttClient | undefined): Promise<void> {
    await client?.endAsync().catch(() => client.end(true))
  }

  #subscribe(client: MqttClient, name: string, shared: boolean): Filter {
    const id = this.#nextId
    this.#nextId = (this.#nextId % 268_435_455) + 1
    const filter: Filter = { filter: name, id, shared, subs: [], next: 0, ready: Promise.resolve() }
    this.#filters.set(name, filter)
    this.#byId.set(id, filter)
    filter.ready = client
      .subscribeAsync(name, { qos: 1, properties: { subscriptionIdentifier: id } })
      .then((granted) => {
        const refused = granted.find((g) => g.qos === 128)
        if (refused)
          throw badRequest('micro.broker', `mqtt broker: the server refused the subscription ${name}`)
      })
      .catch((error: unknown) => {
        this.#forget(filter)
        throw error
      })
    return filter
  }

  async #leave(client: MqttClient, filter: Filter, sub: LocalSubscription): Promise<void> {
    filter.subs = filter.subs.filter((s) => s !== sub)
    if (filter.subs.length > 0 || this.#filters.get(filter.filter) !== filter) return
    this.#forget(filter)
    await filter.ready.catch(() => {})
    // While disconnected mqtt.js queues the unsubscribe (and drops the filter from its resubscribe list).
    const unsubscribing = client.unsubscribeAsync(filter.filter).catch(() => {})
    if (client.connected) await unsubscribing
  }

  #forget(filter: Filter): void {
    if (this.#filters.get(filter.filter) === filter) this.#filters.delete(filter.filter)
    if (this.#byId.get(filter.id) === filter) this.#byId.delete(filter.id)
  }

  #receive(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const ids = packet.properties?.subscriptionIdentifier
    const filters: Filter[] = []
    for (const id of Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]) {
      const filter = this.#byId.get(id)
      if (filter) filters.push(filter)
    }
    // A server that sends no identifiers: the plain filter is the topic itself.
    if (ids === undefined) {
      const plain = this.#filters.get(topic)
      if (plain) filters.push(plain)
    }
    if (filters.length === 0) return
    const headers = incomingHeaders(Object.entries(packet.properties?.userProperties ?? {}))
    for (const filter of filters) {
      const targets = filter.shared
        ? [filter.subs[filter.next++ % Math.max(1, filter.subs.length)]]
        : filter.subs
      for (const sub of targets) {
        if (!sub) continue
        sub.inbox.push(
          new BrokerDelivery({ topic, queue: sub.queue, headers: { ...headers }, body: payload }),
        )
      }
    }
  }

  protected async open(): Promise<MqttClient> {
    const mqtt = await importPeer<MqttModule>('mqtt', 'the mqtt broker')
    const address = this.#options.address ?? 'mqtt://127.0.0.1:1883'
    let client: MqttClient
    try {
      client = await mqtt.connectAsync(
        address,
        {
          protocolVersion: 5,
          clean: true,
          clientId: `micro-${uuid()}`,
          reconnectPeriod: 500,
          connectTimeout: 5000,
          ...this.#options.connectOptions,
        },
        false,
      )
    } catch (error) {
      throw this.unreachable(address, error)
    }
    client.on('message', (topic, payload, packet) => this.#receive(topic, payload, packet))
    client.on('error', (error) => this.logger.warn('mqtt broker connection error', { error }))
    client.on('offline', () => this.logger.warn('mqtt broker disconnected; reconnecting'))
    if (this.closed) {
      await client.endAsync(true)
      throw closedError(this.name)
    }
    return client
  }
}
