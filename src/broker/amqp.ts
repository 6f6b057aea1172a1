import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib'
import { badRequest } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { importPeer } from '../util/optional-import.js'
import { BaseBroker } from './base.js'
import type { OutgoingMessage } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { incomingHeaders, outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import type { LocalSubscription } from './subscription.js'

type AmqpModule = typeof import('amqplib')

interface Connected {
  model: ChannelModel
  publisher: ConfirmChannel
}

/** Options of {@link AmqpBroker}. */
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
 * acked after the handler (auto-ack) or by `ack()`; `nack()` puts it back in its queue with
 * the attempt counted, up to the retry limit, then dead-letters it (retry.ts); a message a
 * consumer held when it stopped or died is delivered again.
 * If the connection is lost, it is opened again (with back-off, while there are
 * subscriptions, or by the next publish) and every subscription consumes again: a group's
 * messages waited in its durable queue, and those a subscriber held unacknowledged are
 * delivered again; a plain subscriber's queue went with the connection, so what was
 * published meanwhile is lost to it.
 */
export class AmqpBroker extends BaseBroker<Connected> {
  readonly #options: AmqpBrokerOptions
  readonly #exchange: string
  /** The connection each subscription consumes on (to tell which need restoring). */
  readonly #consumingOn = new WeakMap<LocalSubscription, ChannelModel>()
  #restoring = false

  constructor(options: AmqpBrokerOptions = {}) {
    super('amqp', options.logger)
    this.#options = options
    this.#exchange = options.exchange ?? 'micro'
  }

  /** Publish a message on a topic (see {@link Broker.publish}). */
  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    assertTopic(topic, this.name)
    const { publisher } = await this.connection()
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
      throw this.failure(error)
    }
  }

  protected async attach(sub: LocalSubscription): Promise<void> {
    const queueName = this.#queueName(sub)
    if (Buffer.byteLength(queueName) > 255)
      throw badRequest('micro.broker', `amqp broker: queue name ${queueName} is over 255 bytes`)
    const { model } = await this.connection()
    await this.#consume(sub, model, queueName)
  }

  /** Consume `sub`'s queue on a new channel of `model`; `sub.detach` undoes it. */
  async #consume(sub: LocalSubscription, model: ChannelModel, queueName: string): Promise<void> {
    const topic = sub.topic
    const channel = await model.createChannel()
    let consumerTag: string | undefined
    sub.detach = async () => {
      if (consumerTag !== undefined) await channel.cancel(consumerTag).catch(() => {})
      await channel.close().catch(() => {})
    }
    channel.on('error', (error) =>
      this.logger.warn('amqp broker: a subscription channel failed', { topic, error }),
    )
    await channel.prefetch(Math.max(this.#options.prefetch ?? 16, sub.inbox.concurrency))
    const { queue } = await channel.assertQueue(
      queueName,
      sub.queue === undefined
        ? { exclusive: true, autoDelete: true, durable: false }
        : { durable: true, arguments: this.#options.groupQueueArguments },
    )
    await channel.bindQueue(queue, this.#exchange, topic)
    const consuming = await channel.consume(queue, (msg) => this.#receive(sub, channel, queue, msg), {
      noAck: false,
    })
    consumerTag = consuming.consumerTag
    this.#consumingOn.set(sub, model)
  }

  protected async release(connected: Connected | undefined): Promise<void> {
    if (!connected) return
    await connected.publisher.close().catch(() => {})
    await connected.model.close().catch(() => {})
  }

  /** Reconnect and consume again, with back-off, until every subscription is back or the broker closes. */
  async #restore(): Promise<void> {
    if (this.#restoring) return
    this.#restoring = true
    let wait = 250
    try {
      while (!this.closed && this.subscriptions.size > 0) {
        try {
          const { model } = await this.connection()
          for (const sub of this.subscriptions) {
            if (!sub.active || this.#consumingOn.get(sub) === model) continue
            await this.#consume(sub, model, this.#queueName(sub))
          }
          this.logger.info('amqp broker reconnected; subscriptions restored', {
            count: this.subscriptions.size,
          })
          return
        } catch (error) {
          this.logger.warn('amqp broker: reconnecting failed; retrying', { error, retryInMs: wait })
          await new Promise((resolve) => setTimeout(resolve, wait))
          wait = Math.min(wait * 2, 5000)
        }
      }
    } finally {
      this.#restoring = false
    }
  }

  #queueName(sub: LocalSubscription): string {
    return sub.queue === undefined ? '' : `${this.#options.queuePrefix ?? 'micro'}.${sub.queue}.${sub.topic}`
  }

  #receive(sub: LocalSubscription, channel: Channel, queue: string, msg: ConsumeMessage | null): void {
    if (!msg) {
      this.logger.warn('amqp broker: the server canceled a subscription (queue deleted?)', {
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
        // Not the routing key: a message put back after a nack comes through the default exchange.
        topic: sub.topic,
        queue: sub.queue,
        headers: incomingHeaders(raw),
        body: msg.content,
        redelivered: msg.fields.redelivered,
        settler: {
          ack: () => channel.ack(msg),
          nack: (requeue) => channel.nack(msg, false, requeue),
          // A native requeue cannot carry the attempt count: the message goes back to its
          // queue as a new copy with the count (confirmed), and this one is acked.
          requeue: async (headers) => {
            await this.#sendToQueue(queue, headers, msg.content)
            channel.ack(msg)
          },
        },
      }),
    )
  }

  /** Put a message straight into a queue (the default exchange), persistent; resolves once confirmed. */
  async #sendToQueue(queue: string, headers: Record<string, string>, body: Buffer): Promise<void> {
    const { publisher } = await this.connection()
    await new Promise<void>((resolve, reject) => {
      publisher.sendToQueue(
        queue,
        body,
        { headers, persistent: true, contentType: headers['content-type'], messageId: headers['micro-id'] },
        (error) => (error ? reject(error) : resolve()),
      )
    })
  }

  protected async open(): Promise<Connected> {
    const amqp = await importPeer<AmqpModule>('amqplib', 'the amqp broker')
    const address = this.#options.address ?? 'amqp://guest:guest@127.0.0.1:5672'
    let model: ChannelModel
    try {
      model = await amqp.connect(address)
    } catch (error) {
      throw this.unreachable(redact(address), error)
    }
    model.on('error', (error) => this.logger.error('amqp broker connection failed', { error }))
    try {
      const publisher = await model.createConfirmChannel()
      publisher.on('error', (error) => this.logger.warn('amqp broker: the publish channel failed', { error }))
      await publisher.assertExchange(this.#exchange, 'topic', { durable: true })
      if (this.closed) throw closedError(this.name)
      const connected = { model, publisher }
      model.on('close', () => {
        if (this.closed) return
        this.logger.error('amqp broker connection lost; reconnecting')
        this.forgetConnection(connected)
        void this.#restore()
      })
      return connected
    } catch (error) {
      await model.close().catch(() => {})
      throw error
    }
  }
}

/** The address without its password, for error messages. */
function redact(address: string): string {
  return address.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}
