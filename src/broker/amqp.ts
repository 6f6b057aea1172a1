import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib'
import { badRequest, MicroError, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { importPeer } from '../util/optional-import.js'
import type { Broker, DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { incomingHeaders, outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import { type LocalSubscription, newSubscription, unsubscribeAll } from './subscription.js'

type AmqpModule = typeof import('amqplib')

export interface AmqpBrokerOptions {
  /** `amqp://user:pass@host:port/vhost`. Default `amqp://guest:guest@127.0.0.1:5672`. */
  address?: string
  /** The topic exchange messages are published to. Default `micro`. */
  exchange?: string
  /** Prefix of queue-group queue names: `<prefix>.<group>.<topic>`. Default `micro`. */
  queuePrefix?: string
  /** Arguments of queue-group queues, e.g. `{ 'x-expires': 86400000 }` to drop unused groups. */
  groupQueueArguments?: Record<string, unknown>
  /** Unacknowledged messages one subscription holds at once. Default 16 (at least its concurrency). */
  prefetch?: number
  logger?: Logger
}

/**
 * RabbitMQ (AMQP 0-9-1). Messages go to a durable topic exchange with the topic as routing
 * key, persistent, with headers in the message's header table (and `content-type`/`micro-id`
 * also as the contentType/messageId properties). `publish` resolves once the broker has
 * confirmed it (a confirm channel). A queue group is a durable queue `<prefix>.<group>.<topic>`
 * shared by its members, so its messages wait while no member runs: at least once. A plain
 * subscriber has an exclusive, auto-deleted queue of its own. Acks are real: a message is
 * acked after the handler (auto-ack) or by `ack()`; `nack()` requeues it (or drops it with
 * `requeue: false`); a message a consumer held when it stopped or died is delivered again.
 * If the connection is lost, subscriptions end (logged) and the next publish reconnects.
 */
export class AmqpBroker implements Broker {
  readonly name = 'amqp'
  readonly #options: AmqpBrokerOptions
  readonly #exchange: string
  readonly #logger: Logger
  readonly #subs = new Set<LocalSubscription>()
  #connection: Promise<{ model: ChannelModel; publisher: ConfirmChannel }> | undefined
  #closed = false

  constructor(options: AmqpBrokerOptions = {}) {
    this.#options = options
    this.#exchange = options.exchange ?? 'micro'
    this.#logger = options.logger ?? createLogger({ fields: { component: 'broker', broker: 'amqp' } })
  }

  async connect(): Promise<void> {
    await this.#connect()
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const { publisher } = await this.#connect()
    const headers = outgoingHeaders(topic, message.headers)
    const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength)
    try {
      await new Promise<void>((resolve, reject) => {
        publisher.publish(
          this.#exchange,
          topic,
          body,
          {
            headers,
            persistent: true,
            contentType: headers['content-type'],
            messageId: headers['micro-id'],
          },
          (error) => (error ? reject(error) : resolve()),
        )
      })
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
    const queueName =
      sub.queue === undefined ? '' : `${this.#options.queuePrefix ?? 'micro'}.${sub.queue}.${topic}`
    if (Buffer.byteLength(queueName) > 255) {
      await sub.unsubscribe()
      throw badRequest('micro.broker', `amqp broker: queue name ${queueName} is over 255 bytes`)
    }
    let channel: Channel | undefined
    try {
      const { model } = await this.#connect()
      channel = await model.createChannel()
      channel.on('error', (error) =>
        this.#logger.warn('amqp broker: a subscription channel failed', { topic, error }),
      )
      const open = channel
      await open.prefetch(Math.max(this.#options.prefetch ?? 16, options?.concurrency ?? 1))
      const { queue } = await open.assertQueue(
        queueName,
        sub.queue === undefined
          ? { exclusive: true, autoDelete: true, durable: false }
          : { durable: true, arguments: this.#options.groupQueueArguments },
      )
      await open.bindQueue(queue, this.#exchange, topic)
      const { consumerTag } = await open.consume(queue, (msg) => this.#receive(sub, open, msg), {
        noAck: false,
      })
      sub.detach = async () => {
        await open.cancel(consumerTag).catch(() => {})
        await open.close().catch(() => {})
      }
    } catch (error) {
      await channel?.close().catch(() => {})
      await sub.unsubscribe()
      throw this.#failure(error)
    }
    sub.watchSignal()
    return sub
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await unsubscribeAll(this.#subs)
    const connected = await this.#connection?.catch(() => undefined)
    if (connected) {
      await connected.publisher.close().catch(() => {})
      await connected.model.close().catch(() => {})
    }
  }

  #receive(sub: LocalSubscription, channel: Channel, msg: ConsumeMessage | null): void {
    if (!msg) {
      this.#logger.warn('amqp broker: the server canceled a subscription (queue deleted?)', {
        topic: sub.topic,
      })
      void sub.unsubscribe()
      return
    }
    const raw = Object.entries(msg.properties.headers ?? {}).filter(
      ([, v]) => typeof v !== 'object' || Buffer.isBuffer(v),
    )
    sub.inbox.push(
      new BrokerDelivery({
        topic: msg.fields.routingKey,
        queue: sub.queue,
        headers: incomingHeaders(raw),
        body: msg.content,
        redelivered: msg.fields.redelivered,
        settler: {
          ack: () => channel.ack(msg),
          nack: (requeue) => channel.nack(msg, false, requeue),
        },
      }),
    )
  }

  #connect(): Promise<{ model: ChannelModel; publisher: ConfirmChannel }> {
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

  async #open(): Promise<{ model: ChannelModel; publisher: ConfirmChannel }> {
    const amqp = await importPeer<AmqpModule>('amqplib', 'the amqp broker')
    const address = this.#options.address ?? 'amqp://guest:guest@127.0.0.1:5672'
    let model: ChannelModel
    try {
      model = await amqp.connect(address)
    } catch (error) {
      throw serviceUnavailable(
        'micro.broker',
        `amqp broker: cannot connect to ${redact(address)}: ${(error as Error).message}`,
      )
    }
    const current = this.#connection
    model.on('error', (error) => this.#logger.error('amqp broker connection failed', { error }))
    model.on('close', () => {
      if (this.#closed) return
      this.#logger.error('amqp broker connection lost; its subscriptions have ended, publish reconnects')
      if (this.#connection === current) this.#connection = undefined
    })
    try {
      const publisher = await model.createConfirmChannel()
      publisher.on('error', (error) =>
        this.#logger.warn('amqp broker: the publish channel failed', { error }),
      )
      await publisher.assertExchange(this.#exchange, 'topic', { durable: true })
      if (this.#closed) throw closedError(this.name)
      return { model, publisher }
    } catch (error) {
      await model.close().catch(() => {})
      throw error
    }
  }

  #failure(error: unknown): MicroError {
    if (error instanceof MicroError) return error
    if (this.#closed) return closedError(this.name)
    return serviceUnavailable('micro.broker', `amqp broker: ${(error as Error).message}`)
  }
}

/** The address without its password, for error messages. */
function redact(address: string): string {
  return address.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}
