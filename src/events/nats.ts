import type { ConsumerConfig } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { uuid } from '../util/ids.js'
import type { EventsOptions } from './base.js'
import { InspectableEvents } from './inspectable.js'
import type { GroupInfo, TopicInfo } from './inspector.js'
import { readMessage } from './nats-codec.js'
import { NatsInspect } from './nats-inspect.js'
import { NatsSource } from './nats-source.js'
import { NatsStreams, natsError } from './nats-streams.js'
import type { ConsumePlan, PublishPlan, ReadPlan } from './options.js'
import type { RawEvent } from './payload.js'
import type { DeliverySource } from './source.js'

/** Options of {@link NatsEvents}. */
export interface NatsEventsOptions extends EventsOptions {
  /** NATS servers, comma-separated. Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Use this connection instead of opening one; close() leaves it open. */
  connection?: NatsConnection
  /** Topics are the subjects `<subjectPrefix>.<namespace>.<topic>`. Default `micro.events`. */
  subjectPrefix?: string
  /** One stream per namespace, named `<streamPrefix><namespace>`. Default `MICRO_EVENTS_`. */
  streamPrefix?: string
  /** Storage of the streams this creates. Default `file`. */
  storage?: 'file' | 'memory'
  /** Oldest event the streams this creates keep, in ms. Default 0: kept until removed. */
  maxAge?: number
  /** Replicas of the streams this creates. Default 1. */
  replicas?: number
  /** How long one pull waits for events before asking again, in ms. Default 5000. */
  pullTimeout?: number
}

/**
 * Event streams on NATS JetStream. Each namespace is a stream; each group a durable pull
 * consumer with explicit acks, `ack_wait` = ackWait, and prompt redelivery on nack.
 * Publishes are deduplicated by event id (`Nats-Msg-Id`), so a retried publish is stored
 * once. Sequences are the stream's: increasing per topic, not contiguous. Inspectable
 * (topics, groups, dead-letter replay) from stream and consumer info (nats-inspect.ts).
 */
export class NatsEvents extends InspectableEvents {
  readonly name = 'nats'
  readonly #streams: NatsStreams
  readonly #inspect: NatsInspect
  readonly #pullTimeout: number

  constructor(options: NatsEventsOptions = {}) {
    super(options)
    this.#streams = new NatsStreams({
      address: options.address,
      connection: options.connection,
      subjectPrefix: options.subjectPrefix ?? 'micro.events',
      streamPrefix: options.streamPrefix ?? 'MICRO_EVENTS_',
      storage: options.storage ?? 'file',
      maxAge: options.maxAge ?? 0,
      replicas: options.replicas ?? 1,
    })
    this.#pullTimeout = Math.max(1000, options.pullTimeout ?? 5000)
    this.#inspect = new NatsInspect(this.#streams)
  }

  protected inspectTopics(namespace: string): Promise<TopicInfo[]> {
    return this.#inspect.topics(namespace)
  }

  protected inspectGroups(namespace: string, topic: string): Promise<GroupInfo[]> {
    return this.#inspect.groups(namespace, topic)
  }

  protected append(plan: PublishPlan): Promise<number> {
    const { namespace, topic, id, timestamp, metadata, contentType, data } = plan
    return this.#streams.publish(namespace, topic, data, { id, timestamp, metadata, contentType }, id)
  }

  protected source(plan: ConsumePlan): DeliverySource {
    return new NatsSource(this.#streams, plan, this.#pullTimeout)
  }

  /** A read is a short-lived consumer without acks, from the start point, fetched to the limit. */
  protected async readRaw(plan: ReadPlan): Promise<RawEvent[]> {
    const link = await this.#streams.link()
    const stream = await this.#streams.ensureStream(plan.namespace)
    const { AckPolicy, DeliverPolicy } = link.jsmod
    const config: Partial<ConsumerConfig> = {
      name: `read-${uuid()}`,
      filter_subject: this.#streams.subject(plan.namespace, plan.topic),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      mem_storage: true,
      inactive_threshold: 30_000_000_000,
    }
    if (plan.offset > 1) {
      config.deliver_policy = DeliverPolicy.StartSequence
      config.opt_start_seq = plan.offset
    } else if (plan.since) {
      config.deliver_policy = DeliverPolicy.StartTime
      config.opt_start_time = plan.since.toISOString()
    }
    const since = plan.since ? BigInt(plan.since.getTime()) * 1_000_000n : 0n
    const out: RawEvent[] = []
    try {
      const info = await link.jsm.consumers.add(stream, config)
      let pending = info.num_pending
      const consumer = await link.js.consumers.get(stream, info.name)
      while (out.length < plan.limit && pending > 0) {
        const messages = await consumer.fetch({ max_messages: Math.min(pending, 256), expires: 5000 })
        let got = 0
        for await (const m of messages) {
          got++
          pending = m.info.pending
          if (m.timestampNanos >= since) out.push(readMessage(m, plan.topic, stream))
          if (out.length >= plan.limit || pending === 0) {
            messages.stop()
            break
          }
        }
        if (got === 0) break
      }
      await link.jsm.consumers.delete(stream, info.name).catch(() => false)
    } catch (error) {
      throw natsError(error, `reading ${plan.topic}`)
    }
    return out
  }

  protected release(): Promise<void> {
    return this.#streams.close()
  }
}
