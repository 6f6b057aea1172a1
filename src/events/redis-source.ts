import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import { serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { uuid } from '../util/ids.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { ConsumePlan } from './options.js'
import type { RawEvent } from './payload.js'
import { CLAIM, DEAD_LETTER, GIVE_BACK, LEAVE } from './redis-scripts.js'
import { type Entry, entryArgs, parseEntry, type RedisStreams, redisError } from './redis-streams.js'
import { SettleBatch } from './settle-batch.js'
import { type Accept, type Delivery, type DeliverySource, deadLetterOf, SETTLED } from './source.js'

/**
 * A consumer over Redis Streams: a consumer group per group (XGROUP CREATE at the offset),
 * new entries by a blocking XREADGROUP on a connection of its own, and entries left
 * unacked past ackWait (by anyone, including members that died) taken over by XAUTOCLAIM,
 * which counts the deliveries. Nack and give-back mark an entry claimable at once. Two
 * reads may be queued on the blocking connection, so the next batch is read while the last
 * is processed; the acks of one turn go out as one XACK.
 */
export class RedisSource implements DeliverySource {
  readonly overlap = 2
  readonly #streams: RedisStreams
  readonly #plan: ConsumePlan
  readonly #key: string
  readonly #me = `${hostname()}-${process.pid}-${uuid().slice(0, 8)}`
  readonly #block: number
  readonly #sweepEvery: number
  readonly #acks: SettleBatch<string>
  #client: Redis | undefined
  #blocking: Redis | undefined
  #nextSweep = 0
  #claimFrom = '0-0'

  constructor(streams: RedisStreams, plan: ConsumePlan, block: number, logger: Logger) {
    this.#streams = streams
    this.#plan = plan
    this.#key = streams.key(plan.namespace, plan.topic)
    this.#block = block
    // Look for expired entries often enough that redelivery is not much later than ackWait.
    this.#sweepEvery = Math.min(1000, Math.max(100, Math.floor(plan.ackWait / 2)))
    const { namespace, topic, group } = plan
    this.#acks = new SettleBatch(
      (ids) => this.#client?.xack(this.#key, group, ...ids),
      (error, ids) =>
        // Still pending: they come back after ackWait.
        logger.warn('events: acknowledging events failed', {
          namespace,
          topic,
          group,
          count: ids.length,
          error,
        }),
    )
  }

  async start(): Promise<void> {
    const redis = await this.#streams.client()
    this.#client = redis
    const { offset, namespace, topic } = this.#plan
    let start = '$'
    if (typeof offset === 'number') start = `0-${Math.max(offset - 1, 0)}`
    else if (offset instanceof Date)
      start = `0-${(await this.#streams.sequenceAt(namespace, topic, offset.getTime())) - 1}`
    try {
      await redis.xgroup('CREATE', this.#key, this.#plan.group, start, 'MKSTREAM')
    } catch (error) {
      // An existing group keeps its position.
      if (!String((error as Error).message).startsWith('BUSYGROUP'))
        throw redisError(error, 'creating the group')
    }
    this.#blocking ??= await this.#streams.duplicate()
  }

  async pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    const blocking = this.#blocking
    if (!blocking || signal.aborted) return
    let entries: Entry[]
    let counts: number[] | undefined
    try {
      if (Date.now() >= this.#nextSweep) [entries, counts] = await this.#sweep(max)
      else entries = []
      if (entries.length === 0) {
        counts = undefined
        entries = await this.#read(blocking, max, signal)
      }
    } catch (error) {
      if (String((error as Error).message).startsWith('NOGROUP')) await this.start()
      throw redisError(error, 'reading events')
    }
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry
      accept(new RedisDelivery(this, parseEntry(this.#plan.topic, entry), Number(counts?.[i] ?? 1)))
    }
  }

  async close(): Promise<void> {
    if (this.#blocking) this.#streams.drop(this.#blocking)
    this.#blocking = undefined
    const redis = await this.#streams.client()
    await this.#acks.flush()
    const { group } = this.#plan
    if (this.#plan.private) await redis.xgroup('DESTROY', this.#key, group).catch(() => 0)
    else await LEAVE.run(redis, [this.#key], [group, this.#me]).catch(() => 0)
  }

  /** Queue an ack: the acks of one turn go out as one XACK. */
  ack(id: string): Promise<void> {
    if (!this.#client || this.#client.status === 'end')
      return Promise.reject(
        serviceUnavailable(EVENTS_ERROR_ID, 'Redis failed acknowledging: the connection is closed'),
      )
    this.#acks.add(id)
    return SETTLED
  }

  /** If the entry is still ours at this attempt, make it claimable at once with `count` deliveries. */
  async giveBack(id: string, attempt: number, count: number): Promise<void> {
    const redis = await this.#streams.client()
    await GIVE_BACK.run(redis, [this.#key], [this.#plan.group, this.#me, id, attempt, count])
    this.#nextSweep = 0
  }

  async deadLetter(delivery: RedisDelivery, id: string, reason: string, undecodable?: boolean) {
    const redis = await this.#streams.client()
    const plan = this.#plan
    const { event, attempt } = delivery
    const target = plan.deadLetter
    const dead = deadLetterOf(event, { reason, group: plan.group, attempt, undecodable })
    const letter = { ...event, ...dead }
    await DEAD_LETTER.run(
      redis,
      [this.#key, this.#streams.key(plan.namespace, target || plan.topic)],
      [plan.group, id, attempt, target === false ? '0' : '1', ...entryArgs(letter)],
    )
  }

  /** Entries past their ackWait, claimed for this consumer, with their delivery counts. */
  async #sweep(max: number): Promise<[Entry[], number[]]> {
    this.#nextSweep = Date.now() + this.#sweepEvery
    const redis = await this.#streams.client()
    const args = [this.#plan.group, this.#me, this.#plan.ackWait, this.#claimFrom, max]
    const [next, entries, counts] = (await CLAIM.run(redis, [this.#key], args, true)) as [
      Buffer,
      Entry[],
      number[],
    ]
    this.#claimFrom = String(next)
    return [entries, counts]
  }

  /** New entries, waiting for them until the next sweep is due; a stop cuts the wait short. */
  async #read(blocking: Redis, max: number, signal: AbortSignal): Promise<Entry[]> {
    const block = Math.max(1, Math.min(this.#block, this.#nextSweep - Date.now()))
    const cancel = () => blocking.disconnect()
    signal.addEventListener('abort', cancel, { once: true })
    try {
      const reply = (await blocking.callBuffer(
        'XREADGROUP',
        'GROUP',
        this.#plan.group,
        this.#me,
        'COUNT',
        max,
        'BLOCK',
        block,
        'STREAMS',
        this.#key,
        '>',
      )) as [Buffer, Entry[]][] | null
      return reply?.[0]?.[1] ?? []
    } finally {
      signal.removeEventListener('abort', cancel)
    }
  }
}

/** One entry delivered to this consumer. */
class RedisDelivery implements Delivery {
  readonly event: RawEvent
  readonly attempt: number
  readonly #source: RedisSource
  /** The entry id, `0-<sequence>`. */
  readonly #id: string

  constructor(source: RedisSource, event: RawEvent, attempt: number) {
    this.#source = source
    this.#id = `0-${event.sequence}`
    this.event = event
    this.attempt = attempt
  }

  ack(): Promise<void> {
    return this.#source.ack(this.#id)
  }

  nack(): Promise<void> {
    return this.#source.giveBack(this.#id, this.attempt, this.attempt)
  }

  release(): Promise<void> {
    return this.#source.giveBack(this.#id, this.attempt, this.attempt - 1)
  }

  deadLetter(reason: string, undecodable?: boolean): Promise<void> {
    return this.#source.deadLetter(this, this.#id, reason, undecodable)
  }
}
