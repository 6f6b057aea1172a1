import type { ConsumerConfig } from '@nats-io/jetstream'
import type { Msg } from '@nats-io/transport-node'
import { serviceUnavailable } from '../errors/errors.js'
import { EVENTS_ERROR_ID } from './names.js'
import { ACK } from './nats-acks.js'
import { deliveredEvent, durableName, parseDeliveryInfo } from './nats-codec.js'
import { NatsPuller } from './nats-pull.js'
import { type NatsLink, type NatsStreams, natsError } from './nats-streams.js'
import type { ConsumePlan } from './options.js'
import type { RawEvent } from './payload.js'
import { type Accept, type Delivery, type DeliverySource, deadLetterOf, SETTLED } from './source.js'

const NAK = Uint8Array.of(45, 78, 65, 75) // -NAK
const encoder = new TextEncoder()

/**
 * A consumer over JetStream: a durable pull consumer per group (named after the group and
 * topic), or an ephemeral one for a consumer without a group, removed when it stops and
 * dropped by the server if its process dies. Acks are explicit, `ack_wait` is the
 * consumer's ackWait and `max_deliver` is unlimited: the retry limit is counted here
 * (from the delivery count) so that the last failure can be dead-lettered with a reason.
 * Pull requests overlap (see NatsPuller); acks and naks of one turn go out in one write,
 * and each resolves once the server confirmed it (see NatsAcks).
 */
export class NatsSource implements DeliverySource {
  /** Pull requests in flight at once, at most (the consumer asks for batches of a quarter of maxInFlight). */
  readonly overlap = 16
  readonly #streams: NatsStreams
  readonly #plan: ConsumePlan
  readonly #pullTimeout: number
  #stream = ''
  #name = ''
  #link: NatsLink | undefined
  #puller: NatsPuller | undefined
  #starting: Promise<void> | undefined
  #missing = false

  constructor(streams: NatsStreams, plan: ConsumePlan, pullTimeout: number) {
    this.#streams = streams
    this.#plan = plan
    this.#pullTimeout = pullTimeout
  }

  start(): Promise<void> {
    // Overlapping pulls that all find the consumer missing make it once.
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined
    })
    return this.#starting
  }

  pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    if (this.#missing || !this.#puller)
      return this.start().then(() => this.#puller?.pull(max, signal, accept))
    return this.#puller.pull(max, signal, accept)
  }

  async close(): Promise<void> {
    this.#puller?.close()
    const link = this.#link
    if (!link) return
    await link.acks.flush()
    if (this.#plan.private) await link.jsm.consumers.delete(this.#stream, this.#name).catch(() => false)
  }

  async #start(): Promise<void> {
    const link = await this.#streams.link()
    this.#stream = await this.#streams.ensureStream(this.#plan.namespace)
    const plan = this.#plan
    this.#name = plan.private ? plan.group : durableName(plan.group, plan.topic)
    try {
      if (plan.private || !(await this.#exists(link)))
        await link.jsm.consumers.add(this.#stream, this.#config(link))
    } catch (error) {
      // Another member made it between our look and our add: join it.
      if (plan.private || !(await this.#exists(link).catch(() => false)))
        throw natsError(error, 'creating the consumer')
    }
    this.#link = link
    this.#missing = false
    this.#puller ??= new NatsPuller(
      link,
      {
        subject: `$JS.API.CONSUMER.MSG.NEXT.${this.#stream}.${this.#name}`,
        delivery: (msg) => this.#delivery(msg),
        missing: () => {
          this.#missing = true
        },
      },
      this.#pullTimeout,
    )
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

  #delivery(msg: Msg): Delivery | undefined {
    const reply = msg.reply
    if (!reply) return undefined
    const info = parseDeliveryInfo(reply)
    if (!info) return undefined
    const event = deliveredEvent(msg, info, this.#plan.topic, this.#stream)
    return new NatsDelivery(this, reply, event, info.deliveryCount)
  }

  /** Ack a delivery (sent at the end of the turn with the others); resolves once the server has it. */
  ack(reply: string): Promise<void> {
    return this.#confirmed(reply, ACK)
  }

  /** Nak a delivery for prompt redelivery; resolves once the server has it. */
  nak(reply: string): Promise<void> {
    return this.#confirmed(reply, NAK)
  }

  #confirmed(reply: string, body: Uint8Array): Promise<void> {
    const link = this.#link
    if (!link)
      return Promise.reject(
        serviceUnavailable(EVENTS_ERROR_ID, 'NATS failed acknowledging: the consumer never started'),
      )
    return link.acks.send(reply, body)
  }

  /**
   * Give back an event fetched but not handed out. Not before the pull requests that were
   * open when the consumer stopped have expired: until then the server may hand it to one
   * of them again, whose reader is gone, and it would wait out ackWait.
   */
  release(reply: string): Promise<void> {
    const until = this.#puller?.abandonedUntil ?? 0
    const delay = until === 0 ? 0 : Math.max(0, until - Date.now()) + 250
    // Not confirmed: nothing waits for it, and a lost one only means the event comes back
    // after ackWait instead of at once.
    try {
      const body = delay ? encoder.encode(`-NAK {"delay":${Math.ceil(delay) * 1_000_000}}`) : NAK
      this.#link?.nc.publish(reply, body)
      return SETTLED
    } catch (error) {
      return Promise.reject(natsError(error, 'giving an event back'))
    }
  }

  async deadLetter(delivery: NatsDelivery, reply: string, reason: string, undecodable?: boolean) {
    const plan = this.#plan
    if (plan.deadLetter !== false) {
      const { event, attempt } = delivery
      const { metadata, contentType } = deadLetterOf(event, {
        reason,
        group: plan.group,
        attempt,
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
    return this.ack(reply)
  }
}

/** One delivered JetStream message: settled through its ack subject. */
class NatsDelivery implements Delivery {
  readonly event: RawEvent
  readonly attempt: number
  readonly #source: NatsSource
  readonly #reply: string

  constructor(source: NatsSource, reply: string, event: RawEvent, attempt: number) {
    this.#source = source
    this.#reply = reply
    this.event = event
    this.attempt = attempt
  }

  ack(): Promise<void> {
    return this.#source.ack(this.#reply)
  }

  nack(): Promise<void> {
    return this.#source.nak(this.#reply)
  }

  release(): Promise<void> {
    return this.#source.release(this.#reply)
  }

  deadLetter(reason: string, undecodable?: boolean): Promise<void> {
    return this.#source.deadLetter(this, this.#reply, reason, undecodable)
  }
}
