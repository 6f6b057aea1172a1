import { acquirePlatform, type PlatformLink, platformAddress } from '../engines/platform.js'
import type { WireTopicInfo } from '../platform/services/events.js'
import {
  fromWireEvent,
  fromWireRecord,
  type WireEvent,
  type WireEventRecord,
} from '../platform/services/events-wire.js'
import { encodeBytes } from '../platform/services/wire.js'
import type { NamespaceOption } from '../registry/registry.js'
import { BaseEvents, type EventsOptions } from './base.js'
import type { EventRecord, PublishOptions } from './events.js'
import type { EventsInspector, GroupInfo, TopicInfo } from './inspector.js'
import { closedError } from './names.js'
import { type ConsumePlan, type PublishPlan, planPublish, type ReadPlan } from './options.js'
import type { RawEvent } from './payload.js'
import { RemoteSource } from './service-source.js'
import type { DeliverySource } from './source.js'

/** Options of {@link ServiceEvents}. */
export interface ServiceEventsOptions extends EventsOptions {
  /** The platform, `host:port`. Default MICRO_PLATFORM, else `127.0.0.1:8081`. */
  address?: string
}

/**
 * The event streams of a platform (`micro server`), through its `Events` service, as Micro
 * v3's service profile did. Publishes and reads are one request each. A consumer runs its
 * loop here over a stream to the platform, which holds a consumer of the server's engine,
 * so groups, offsets, acks, redelivery, retry limits and dead letters are that engine's.
 * When the platform goes away, consumers back off and join their group again once it is
 * back; publishes fail with a 503 meanwhile.
 */
export class ServiceEvents extends BaseEvents implements EventsInspector {
  readonly name = 'service'
  /** The platform this engine talks to, `host:port`. */
  readonly address: string
  #link: PlatformLink | undefined

  constructor(options: ServiceEventsOptions = {}) {
    super(options)
    this.address = platformAddress(options.address)
  }

  /** Publish an event through the platform's `Events.Publish`. */
  override async publish(
    topic: string,
    payload: unknown,
    options: PublishOptions = {},
  ): Promise<EventRecord> {
    this.assertOpen()
    // Checked and encoded here, so a bad call is a 400 without a round trip.
    const plan = planPublish(topic, payload, options, this.namespace)
    return fromWireRecord(
      await this.#platform().call<WireEventRecord>('Events.Publish', publishRequest(plan)),
    )
  }

  /** The namespace's topics, from the platform's engine (`Events.Topics`). */
  async listTopics(options: NamespaceOption = {}): Promise<TopicInfo[]> {
    this.assertOpen()
    const { topics } = await this.#platform().call<{ topics: WireTopicInfo[] }>('Events.Topics', {
      namespace: options.namespace ?? this.namespace,
    })
    return topics.map(({ lastStored, ...topic }) => ({
      ...topic,
      ...(lastStored ? { lastStored: new Date(lastStored) } : {}),
    }))
  }

  /** The topic's consumer groups, from the platform's engine (`Events.Groups`). */
  async listGroups(topic: string, options: NamespaceOption = {}): Promise<GroupInfo[]> {
    this.assertOpen()
    const { groups } = await this.#platform().call<{ groups: GroupInfo[] }>('Events.Groups', {
      namespace: options.namespace ?? this.namespace,
      topic,
    })
    return groups
  }

  /** Replay a dead letter on the platform (`Events.ReplayDeadLetter`). */
  async replayDeadLetter(
    deadTopic: string,
    sequence: number,
    options: NamespaceOption = {},
  ): Promise<EventRecord> {
    this.assertOpen()
    return fromWireRecord(
      await this.#platform().call<WireEventRecord>('Events.ReplayDeadLetter', {
        namespace: options.namespace ?? this.namespace,
        topic: deadTopic,
        sequence,
      }),
    )
  }

  protected async append(plan: PublishPlan): Promise<number> {
    return (await this.#platform().call<WireEventRecord>('Events.Publish', publishRequest(plan))).sequence
  }

  protected source(plan: ConsumePlan): DeliverySource {
    return new RemoteSource(() => this.#platform(), plan)
  }

  protected async readRaw(plan: ReadPlan): Promise<RawEvent[]> {
    const request = {
      namespace: plan.namespace,
      topic: plan.topic,
      offset: plan.offset,
      since: plan.since?.toISOString(),
      limit: plan.limit,
    }
    const { events } = await this.#platform().call<{ events: WireEvent[] }>('Events.Read', request)
    return events.map(fromWireEvent)
  }

  protected async release(): Promise<void> {
    await this.#link?.release()
    this.#link = undefined
  }

  #platform(): PlatformLink {
    if (this.isClosed) throw closedError(this.name)
    this.#link ??= acquirePlatform(this.address)
    return this.#link
  }
}

function publishRequest(plan: PublishPlan): Record<string, unknown> {
  return {
    namespace: plan.namespace,
    topic: plan.topic,
    data: encodeBytes(plan.data),
    contentType: plan.contentType,
    metadata: plan.metadata,
    timestamp: new Date(plan.timestamp).toISOString(),
  }
}
