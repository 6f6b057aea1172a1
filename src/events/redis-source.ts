import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import { uuid } from '../util/ids.js'
import type { ConsumePlan } from './options.js'
import { CLAIM, DEAD_LETTER, GIVE_BACK, LEAVE } from './redis-scripts.js'
import {
  type Entry,
  entryArgs,
  parseEntry,
  type RedisStreams,
  redisError,
  sequenceOf,
} from './redis-streams.js'
import { type Delivery, type DeliverySource, deadLetterOf } from './source.js'

/**
 * A consumer over Redis Streams: a consumer group per group (XGROUP CREATE at the offset),
 * new entries by a blocking XREADGROUP on a connection of its own, and entries left
 * unacked past ackWait (by anyone, including members that died) taken over by XAUTOCLAIM,
 * which counts the deliveries. Nack and give-back mark an entry claimable at once.
 */
export class RedisSource implements DeliverySource {
  readonly #streams: RedisStreams
  readonly #plan: ConsumePlan
  readonly #key: string
  readonly #me = `${hostname()}-${process.pid}-${uuid().slice(0, 8)}`
  readonly #block: number
  readonly #sweepEvery: number
  #blocking: Redis | undefined
  #nextSweep = 0
  #claimFrom = '0-0'

  constructor(streams: RedisStreams, plan: ConsumePlan, block: number) {
    this.#streams = streams
    this.#plan = plan
    this.#key = streams.key(plan.namespace, plan.topic)
    this.#block = block
    // Look for expired entries often enough that redelivery is not much later than ackWait.
    this.#sweepEvery = Math.min(1000, Math.max(100, Math.floor(plan.ackWait / 2)))
  }

  async start(): Promise<void> {
    const redis = await this.#streams.client()
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

  async *pull(max: number, signal: AbortSignal): AsyncIterable<Delivery> {
    const blocking = this.#blocking
    if (!blocking || signal.aborted) return
    let entries: { entry: Entry; attempt: number }[]
    try {
      entries = Date.now() >= this.#nextSweep ? await this.#sweep(max) : []
      if (entries.length === 0) entries = await this.#read(blocking, max, signal)
    } catch (error) {
      if (String((error as Error).message).startsWith('NOGROUP')) await this.start()
      throw redisError(error, 'reading events')
    }
    for (const { entry, attempt } of entries) yield this.#delivery(entry, attempt)
  }

  async close(): Promise<void> {
    if (this.#blocking) this.#streams.drop(this.#blocking)
    this.#blocking = undefined
    const redis = await this.#streams.client()
    const { group } = this.#plan
    if (this.#plan.private) await redis.xgroup('DESTROY', this.#key, group).catch(() => 0)
    else await LEAVE.run(redis, [this.#key], [group, this.#me]).catch(() => 0)
  }

  /** Entries past their ackWait, claimed for this consumer with their delivery counts. */
  async #sweep(max: number): Promise<{ entry: Entry; attempt: number }[]> {
    this.#nextSweep = Date.now() + this.#sweepEvery
    const redis = await this.#streams.client()
    const args = [this.#plan.group, this.#me, this.#plan.ackWait, this.#claimFrom, max]
    const [next, entries, counts] = (await CLAIM.run(redis, [this.#key], args, true)) as [
      Buffer,
      Entry[],
      number[],
    ]
    this.#claimFrom = String(next)
    return entries.map((entry, i) => ({ entry, attempt: Number(counts[i] ?? 1) }))
  }

  /** New entries, waiting for them until the next sweep is due; a stop cuts the wait short. */
  async #read(
    blocking: Redis,
    max: number,
    signal: AbortSignal,
  ): Promise<{ entry: Entry; attempt: number }[]> {
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
      return (reply?.[0]?.[1] ?? []).map((entry) => ({ entry, attempt: 1 }))
    } finally {
      signal.removeEventListener('abort', cancel)
    }
  }

  #delivery(entry: Entry, attempt: number): Delivery {
    const plan = this.#plan
    const event = parseEntry(plan.topic, entry)
    const id = `0-${sequenceOf(String(entry[0]))}`
    const giveBack = async (count: number) => {
      const redis = await this.#streams.client()
      await GIVE_BACK.run(redis, [this.#key], [plan.group, this.#me, id, attempt, count])
      this.#nextSweep = 0
    }
    return {
      event,
      attempt,
      ack: async () => {
        await (await this.#streams.client()).xack(this.#key, plan.group, id)
      },
      nack: () => giveBack(attempt),
      release: () => giveBack(attempt - 1),
      deadLetter: async (reason, undecodable) => {
        const redis = await this.#streams.client()
        const target = plan.deadLetter
        const dead = deadLetterOf(event, { reason, group: plan.group, attempt, undecodable })
        const letter = { ...event, ...dead }
        await DEAD_LETTER.run(
          redis,
          [this.#key, this.#streams.key(plan.namespace, target || plan.topic)],
          [plan.group, id, attempt, target === false ? '0' : '1', ...entryArgs(letter)],
        )
      },
    }
  }
}
