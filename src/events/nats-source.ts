import type { Consumer, ConsumerConfig, JsMsg } from '@nats-io/jetstream'
import { durableName, readMessage } from './nats-codec.js'
import { type NatsLink, type NatsStreams, natsError } from './nats-streams.js'
import type { ConsumePlan } from './options.js'
import type { RawEvent } from './payload.js'
import { type Delivery, type DeliverySource, deadLetterOf } from './source.js'

/**
 * A consumer over JetStream: a durable pull consumer per group (named after the group and
 * topic), or an ephemeral one for a consumer without a group, removed when it stops and
 * dropped by the server if its process dies. Acks are explicit, `ack_wait` is the
 * consumer's ackWait and `max_deliver` is unlimited: the retry limit is counted here
 * (from the delivery count) so that the last failure can be dead-lettered with a reason.
 */
export class NatsSource implements DeliverySource {
  readonly #streams: NatsStreams
  readonly #plan: ConsumePlan
  readonly #pullTimeout: number
  #stream = ''
  #name = ''
  #consumer: Consumer | undefined

  constructor(streams: NatsStreams, plan: ConsumePlan, pullTimeout: number) {
    this.#streams = streams
    this.#plan = plan
    this.#pullTimeout = pullTimeout
  }

  async start(): Promise<void> {
    const link = await this.#streams.link()
    this.#stream = await this.#streams.ensureStream(this.#plan.namespace)
    const plan = this.#plan
    this.#name = plan.private ? plan.group : durableName(plan.group, plan.topic)
    try {
      if (!plan.private && (await this.#exists(link))) {
        this.#consumer = await link.js.consumers.get(this.#stream, this.#name)
        return
      }
      await link.jsm.consumers.add(this.#stream, this.#config(link))
    } catch (error) {
      // Another member made it between our look and our add: join it.
      if (plan.private || !(await this.#exists(link).catch(() => false)))
        throw natsError(error, 'creating the consumer')
    }
    this.#consumer = await link.js.consumers.get(this.#stream, this.#name)
  }

  async *pull(max: number, signal: AbortSignal): AsyncIterable<Delivery> {
    const consumer = this.#consumer
    if (!consumer) return
    let messages: Awaited<ReturnType<Consumer['fetch']>>
    try {
      messages = await consumer.fetch({ max_messages: max, expires: this.#pullTimeout })
    } catch (error) {
      throw natsError(error, 'fetching events')
    }
    const stop = () => messages.stop()
    signal.addEventListener('abort', stop, { once: true })
    if (signal.aborted) stop()
    // The server keeps this pull open until it expires, even after we stop listening.
    const expires = Date.now() + this.#pullTimeout
    try {
      for await (const m of messages) yield this.#delivery(m, expires)
    } catch (error) {
      // The consumer went away (an ephemeral one outlived by a long disconnect): make it again.
      if ((error as Error).name === 'ConsumerNotFoundError') await this.start()
      throw natsError(error, 'fetching events')
    } finally {
      signal.removeEventListener('abort', stop)
    }
  }

  async close(): Promise<void> {
    if (!this.#plan.private || !this.#consumer) return
    const link = await this.#streams.link()
    await link.jsm.consumers.delete(this.#stream, this.#name).catch(() => false)
  }

  async #exists(link: NatsLink): Promise<boolean> {
    try {
      await link.jsm.consumers.info(this.#stream, this.#name)
      return true
    } catch (error) {
      if ((error as Error).name === 'ConsumerNotFoundError') return false
      throw error
    }
  }

  #config(link: NatsLink): Partial<ConsumerConfig> {
    const { AckPolicy, DeliverPolicy } = link.jsmod
    const plan = this.#plan
    const config: Partial<ConsumerConfig> = {
      filter_subject: this.#streams.subject(plan.namespace, plan.topic),
      ack_policy: AckPolicy.Explicit,
      ack_wait: plan.ackWait * 1_000_000,
      max_deliver: -1,
      deliver_policy: DeliverPolicy.New,
    }
    if (plan.private) {
      config.name = this.#name
      // Gone a minute after its process stops pulling (a pull every pullTimeout keeps it).
      config.inactive_threshold = Math.max(60_000, this.#pullTimeout * 4) * 1_000_000
    } else {
      config.durable_name = this.#name
      config.description = `micro-ts events: group ${plan.group} of ${plan.topic}`
    }
    const offset = plan.offset
    if (typeof offset === 'number') {
      config.deliver_policy = DeliverPolicy.StartSequence
      config.opt_start_seq = Math.max(offset, 1)
    } else if (offset instanceof Date && offset.getTime() <= Date.now()) {
      // A start in the future means "what comes next", as in the other implementations.
      config.deliver_policy = DeliverPolicy.StartTime
      config.opt_start_time = offset.toISOString()
    }
    return config
  }

  #delivery(m: JsMsg, pullExpires: number): Delivery {
    const plan = this.#plan
    const event: RawEvent = readMessage(m, plan.topic, this.#stream)
    return {
      event,
      attempt: m.info.deliveryCount,
      ack: async () => m.ack(),
      nack: async () => m.nak(),
      // Given back after the pull it came with has expired: until then the server may hand
      // it to that pull again, whose reader is gone, and it would wait out ackWait.
      release: async () => m.nak(Math.max(0, pullExpires - Date.now()) + 250),
      deadLetter: async (reason, undecodable) => {
        if (plan.deadLetter !== false) {
          const { metadata, contentType } = deadLetterOf(event, {
            reason,
            group: plan.group,
            attempt: m.info.deliveryCount,
            undecodable,
          })
          const { id, timestamp, data } = event
          // One dead letter per event and group, even when this is repeated after a failure.
          const msgId = `${id}.dead.${plan.group}`
          await this.#streams.publish(
            plan.namespace,
            plan.deadLetter,
            data,
            { id, timestamp, metadata, contentType },
            msgId,
          )
        }
        m.ack()
      },
    }
  }
}
