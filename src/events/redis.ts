import type { Redis } from 'ioredis'
import type { EventsOptions } from './base.js'
import { InspectableEvents } from './inspectable.js'
import type { GroupInfo, TopicInfo } from './inspector.js'
import type { ConsumePlan, PublishPlan, ReadPlan } from './options.js'
import type { RawEvent } from './payload.js'
import { RedisInspect } from './redis-inspect.js'
import { RedisSource } from './redis-source.js'
import { RedisStreams, redisError } from './redis-streams.js'
import type { DeliverySource } from './source.js'

/** Options of {@link RedisEvents}. */
export interface RedisEventsOptions extends EventsOptions {
  /** A Redis URL. Default `redis://127.0.0.1:6379`. */
  address?: string
  /** Use this client instead of opening one; close() leaves it open. */
  client?: Redis
  /** Streams live at `<prefix><namespace>:<topic>`. Default `micro:events:`. */
  prefix?: string
  /** Longest a consumer's blocking read waits before looking for expired entries, in ms. Default 1000. */
  blockTimeout?: number
}

/**
 * Event streams on Redis Streams (Redis 7 or later). A topic is a stream whose entry ids
 * are `0-<sequence>`; a group is a consumer group; redelivery after ackWait is XAUTOCLAIM,
 * the attempt count is the entry's delivery count, and dead-lettering appends to the
 * dead-letter stream and acks in one script. Each consumer keeps a connection of its own
 * for blocking reads. Inspectable (topics, groups, dead-letter replay) from XINFO and
 * XPENDING (redis-inspect.ts).
 */
export class RedisEvents extends InspectableEvents {
  readonly name = 'redis'
  readonly #streams: RedisStreams
  readonly #inspect: RedisInspect
  readonly #block: number

  constructor(options: RedisEventsOptions = {}) {
    super(options)
    this.#streams = new RedisStreams({
      address: options.address,
      client: options.client,
      prefix: options.prefix ?? 'micro:events:',
    })
    this.#block = Math.max(10, options.blockTimeout ?? 1000)
    this.#inspect = new RedisInspect(this.#streams)
  }

  protected inspectTopics(namespace: string): Promise<TopicInfo[]> {
    return this.#inspect.topics(namespace)
  }

  protected inspectGroups(namespace: string, topic: string): Promise<GroupInfo[]> {
    return this.#inspect.groups(namespace, topic)
  }

  protected append(plan: PublishPlan): Promise<number> {
    const { namespace, topic, id, timestamp, metadata, contentType, data } = plan
    return this.#streams.add(namespace, topic, { id, timestamp, metadata, contentType, data })
  }

  protected source(plan: ConsumePlan): DeliverySource {
    return new RedisSource(this.#streams, plan, this.#block, this.logger)
  }

  protected async readRaw(plan: ReadPlan): Promise<RawEvent[]> {
    try {
      let from = plan.offset
      if (plan.since)
        from = Math.max(
          from,
          await this.#streams.sequenceAt(plan.namespace, plan.topic, plan.since.getTime()),
        )
      return await this.#streams.range(plan.namespace, plan.topic, from, plan.limit)
    } catch (error) {
      throw redisError(error, `reading ${plan.topic}`)
    }
  }

  protected release(): Promise<void> {
    return this.#streams.close()
  }
}
