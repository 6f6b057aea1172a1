import { hostname } from 'node:os'
import type { Redis } from 'ioredis'
import { serviceUnavailable } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { uuid } from '../util/ids.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { ConsumePlan } from './options.js'
import type { RawEvent } from './payload.js'
import { LOST, RedisGroup } from './redis-group.js'
import { ACK, CLAIM, DEAD_LETTER, GIVE_BACK, LEAVE } from './redis-scripts.js'
import { type Entry, entryArgs, parseEntry, type RedisStreams, redisError } from './redis-streams.js'
import { SettleBatch } from './settle-batch.js'
import { type Accept, type Delivery, type DeliverySource, deadLetterOf } from './source.js'

/**
 * A consumer over Redis Streams: a consumer group per group (XGROUP CREATE at the offset),
 * new entries by a blocking XREADGROUP on a connection of its own, and entries left
 * unacked past ackWait (by anyone, including members that died) taken over by XAUTOCLAIM,
 * which counts the deliveries. Nack and give-back mark an entry claimable at once. Two
 * reads may be queued on the blocking connection, so the next batch is read while the last
 * is processed; the acks of one turn go out as one XACK, and each ack resolves with its
 * reply. A group Redis lost is made again and the loss reported (see RedisGroup).
 */
export class RedisSource implements DeliverySource {
  readonly overlap = 2
  readonly #streams: RedisStreams
  readonly #plan: ConsumePlan
  readonly #key: string
  readonly #me = `${hostname()}-${process.pid}-${uuid().slice(0, 8)}`
  readonly #block: number
  readonly #sweepEvery: number
  readonly #group: RedisGroup
  /** Acks of the current epoch waiting for the end of the turn. */
  #acks: SettleBatch<string>
  #acksEpoch = ''
  #client: Redis | undefined
  #blocking: Redis | undefined
  #nextSweep = 0
  #claimFrom = '0-0'
  /** The epoch #claimFrom belongs to: a group made again starts from the beginning. */
  #claimEpoch = ''

  constructor(streams: RedisStreams, plan: ConsumePlan, block: number, logger: Logger) {
    this.#streams = streams
    this.#plan = plan
    this.#key = streams.key(plan.namespace, plan.topic)
    this.#block = block
    // Look for expired entries often enough that redelivery is not much later than ackWait.
    this.#sweepEvery = Math.min(1000, Math.max(100, Math.floor(plan.ackWait / 2)))
    this.#group = new RedisGroup(this.#key, plan, () => streams.client(), logger)
    this.#acks = this.#ackBatch('')
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
      // An existing group keeps its position.
      await this.#group.join(redis, start, this.#sweepEvery)
    } catch (error) {
      throw redisError(error, 'creating the group')
    }
    this.#blocking ??= await this.#streams.duplicate()
  }

  async pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    const blocking = this.#blocking
    if (!blocking || signal.aborted) return
    let entries: Entry[]
    let counts: number[] | undefined
    const epoch = this.#group.epoch
    try {
      if (Date.now() >= this.#nextSweep) [entries, counts] = await this.#sweep(max, epoch)
      else entries = []
      if (entries.length === 0) {
        counts = undefined
        entries = await this.#read(blocking, max, signal)
      }
    } catch (error) {
      // The group is gone (Redis lost its data?): make it again, report it, and read on.
      if (String((error as Error).message).startsWith('NOGROUP')) return this.#group.lost(epoch)
      throw redisError(error, 'reading events')
    }
    const group = this.#group
    for (let i = 0; i < entries.length; i++) {
      const event = parseEntry(this.#plan.topic, entries[i] as Entry)
      group.delivered(event.sequence, event.id)
      accept(new RedisDelivery(this, event, Number(counts?.[i] ?? 1), epoch))
    }
  }

  async close(): Promise<void> {
    if (this.#blocking) this.#streams.drop(this.#blocking)
    this.#blocking = undefined
    const redis = await this.#streams.client()
    await this.#acks.flush()
    await this.#group.leave(redis)
    if (!this.#plan.private) await LEAVE.run(redis, [this.#key], [this.#plan.group, this.#me]).catch(() => 0)
  }

  /** Queue an ack: the acks of one turn go out as one XACK; resolves with its reply. */
  ack(id: string, epoch: string): Promise<void> {
    if (!this.#client || this.#client.status === 'end')
      return Promise.reject(
        serviceUnavailable(EVENTS_ERROR_ID, 'Redis failed acknowledging: the connection is closed'),
      )
    const group = this.#group
    if (epoch !== group.epoch) return Promise.reject(group.staleError())
    group.settled(epoch)
    if (this.#acksEpoch !== epoch) this.#acks = this.#ackBatch(epoch)
    return this.#acks.add(id)
  }

  /** If the entry is still ours at this attempt, make it claimable at once with `count` deliveries. */
  async giveBack(id: string, attempt: number, count: number, epoch: string): Promise<void> {
    const group = this.#group
    if (epoch !== group.epoch) throw group.staleError()
    group.settled(epoch)
    const redis = await this.#streams.client()
    const args = [this.#plan.group, epoch, this.#me, id, attempt, count]
    const reply = await GIVE_BACK.run(redis, group.keys, args)
    this.#nextSweep = 0
    if (reply === LOST) {
      await group.lost(epoch)
      throw group.staleError()
    }
  }

  async deadLetter(delivery: RedisDelivery, id: string, reason: string, undecodable?: boolean) {
    const group = this.#group
    const epoch = delivery.epoch
    if (epoch !== group.epoch) throw group.staleError()
    group.settled(epoch)
    const redis = await this.#streams.client()
    const plan = this.#plan
    const { event, attempt } = delivery
    const target = plan.deadLetter
    const dead = deadLetterOf(event, { reason, group: plan.group, attempt, undecodable })
    const letter = { ...event, ...dead }
    const reply = await DEAD_LETTER.run(
      redis,
      [...group.keys, this.#streams.key(plan.namespace, target || plan.topic)],
      [plan.group, epoch, id, attempt, target === false ? '0' : '1', ...entryArgs(letter)],
    )
    if (reply === LOST) {
      await group.lost(epoch)
      throw group.staleError()
    }
  }

  /** The acks of one turn in `epoch`, as one script run (XACK after the epoch check). */
  #ackBatch(epoch: string): SettleBatch<string> {
    this.#acksEpoch = epoch
    const group = this.#group
    return new SettleBatch(async (ids) => {
      const redis = this.#client
      if (!redis) throw serviceUnavailable(EVENTS_ERROR_ID, 'Redis failed acknowledging: not connected')
      let reply: unknown
      try {
        reply = await ACK.run(redis, group.keys, [this.#plan.group, epoch, ...ids])
      } catch (error) {
        throw redisError(error, 'acknowledging events')
      }
      if (reply === LOST) {
        await group.lost(epoch)
        throw group.staleError()
      }
    })
  }

  /** Entries past their ackWait, claimed for this consumer, with their delivery counts. */
  async #sweep(max: number, epoch: string): Promise<[Entry[], number[]]> {
    this.#nextSweep = Date.now() + this.#sweepEvery
    if (this.#claimEpoch !== epoch) {
      this.#claimEpoch = epoch
      this.#claimFrom = '0-0'
    }
    const redis = await this.#streams.client()
    const args = [this.#plan.group, epoch, this.#me, this.#plan.ackWait, this.#claimFrom, max]
    const reply = await CLAIM.run(redis, this.#group.keys, args, true)
    if (reply === LOST) {
      await this.#group.lost(epoch)
      return [[], []]
    }
    const [next, entries, counts] = reply as [Buffer, Entry[], number[]]
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
  /** The epoch of the group it was read from. */
  readonly epoch: string
  /** The entry id, `0-<sequence>`. */
  readonly #id: string

  constructor(source: RedisSource, event: RawEvent, attempt: number, epoch: string) {
    this.#source = source
    this.#id = `0-${event.sequence}`
    this.event = event
    this.attempt = attempt
    this.epoch = epoch
  }

  ack(): Promise<void> {
    return this.#source.ack(this.#id, this.epoch)
  }

  nack(): Promise<void> {
    return this.#source.giveBack(this.#id, this.attempt, this.attempt, this.epoch)
  }

  release(): Promise<void> {
    return this.#source.giveBack(this.#id, this.attempt, this.attempt - 1, this.epoch)
  }

  deadLetter(reason: string, undecodable?: boolean): Promise<void> {
    return this.#source.deadLetter(this, this.#id, reason, undecodable)
  }
}
