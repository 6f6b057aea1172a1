import type { Redis } from 'ioredis'
import { conflict } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import { uuid } from '../util/ids.js'
import { GroupLostError } from './loss.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { ConsumePlan } from './options.js'
import { CHECK, JOIN, RECOVER } from './redis-scripts.js'
import { sequenceOf } from './redis-streams.js'

/** The group as the last check saw it. */
interface Count {
  pending: number
  lastDelivered: number
  /** The event id stored at lastDelivered ('' when not there any more). */
  lastEventId: string
  undelivered: number
  at: number
}

/** What a script that checks the epoch returns when the group was lost. */
export const LOST = -1

/**
 * One consumer's hold on its Redis consumer group, and what happens when Redis loses it.
 * The group is made with an epoch (a random token in the hash `<stream>:groups`) that every
 * settling script checks, so a lost group is noticed by the first ack, claim or check after
 * the loss (a check runs every `checkEvery` ms), and an ack meant for the lost group never
 * settles an event of the new one that reuses its id. On a loss the group is made again
 * (after the last sequence it had when the stream still holds it, else from the stream's
 * start: a new stream holds only events published since), and the loss is reported with
 * the counts of the last check: logged as an error and passed to `onLoss`.
 */
export class RedisGroup {
  /** The epoch of the group this consumer settles in. */
  epoch = ''
  readonly #plan: ConsumePlan
  readonly #key: string
  readonly #groups: string
  readonly #logger: Logger
  readonly #client: () => Promise<Redis>
  #count: Count | undefined
  /** The highest sequence read from the group, with its event id. */
  #seen = { sequence: 0, id: '' }
  /** Deliveries of this epoch not settled yet. */
  #held = 0
  #recovering: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #checking = false
  /** Left: a check still on its way must not make the group again (a private one was removed). */
  #left = false

  constructor(key: string, plan: ConsumePlan, client: () => Promise<Redis>, logger: Logger) {
    this.#key = key
    this.#groups = `${key}:groups`
    this.#plan = plan
    this.#client = client
    this.#logger = logger
  }

  /** The keys every group script takes first: the stream and the hash of epochs. */
  get keys(): [string, string] {
    return [this.#key, this.#groups]
  }

  /** Make or join the group at `start` (an entry id, or `$`), then check it every `checkEvery` ms. */
  async join(redis: Redis, start: string, checkEvery: number): Promise<void> {
    this.epoch = String(await JOIN.run(redis, this.keys, [this.#plan.group, start, uuid()]))
    this.#timer ??= setInterval(() => void this.#check(), checkEvery).unref()
    await this.#check()
  }

  /** Stop checking; a private group is removed with its epoch. */
  async leave(redis: Redis): Promise<void> {
    this.#left = true
    clearInterval(this.#timer)
    this.#timer = undefined
    if (!this.#plan.private) return
    await redis.xgroup('DESTROY', this.#key, this.#plan.group).catch(() => 0)
    await redis.hdel(this.#groups, this.#plan.group).catch(() => 0)
  }

  /** A delivery was read (from `epoch`). */
  delivered(sequence: number, id: string): void {
    this.#held++
    if (sequence > this.#seen.sequence) this.#seen = { sequence, id }
  }

  /** A delivery of `epoch` is settled (or given back). */
  settled(epoch: string): void {
    if (epoch === this.epoch && this.#held > 0) this.#held--
  }

  /** The 409 a settlement of a delivery from a lost group gets. */
  staleError(): Error {
    return conflict(
      EVENTS_ERROR_ID,
      'the consumer group was lost before this event was settled (see onLoss): it cannot be acknowledged or redelivered',
    )
  }

  /**
   * A script answered LOST for `epoch`: make the group again (once, however many noticed) and
   * report the loss. Resolves when that is done.
   */
  lost(epoch: string): Promise<void> {
    if (this.#left) return Promise.resolve()
    if (epoch !== this.epoch) return this.#recovering ?? Promise.resolve()
    this.#recovering ??= this.#recover(epoch).finally(() => {
      this.#recovering = undefined
    })
    return this.#recovering
  }

  async #recover(lost: string): Promise<void> {
    const redis = await this.#client()
    const count = this.#count
    const known = count && count.lastDelivered > this.#seen.sequence ? count : undefined
    const position = known ? { sequence: known.lastDelivered, id: known.lastEventId } : this.#seen
    const [epoch, after] = (await RECOVER.run(redis, this.keys, [
      this.#plan.group,
      lost,
      uuid(),
      position.sequence,
      position.id,
    ])) as [string, number]
    const held = this.#held
    this.epoch = String(epoch)
    this.#held = 0
    this.#count = undefined
    this.#seen = { sequence: Math.max(0, Number(after)), id: '' }
    if (Number(after) === -2) return
    const { namespace, topic, group } = this.#plan
    const error = new GroupLostError('Redis', {
      namespace,
      topic,
      group,
      pending: count?.pending,
      undelivered: count?.undelivered,
      lastDelivered: count?.lastDelivered ?? position.sequence,
      countedAt: count?.at,
      held,
      restartedAfter: Number(after),
    })
    this.#logger.error(`events: ${error.message}`, { ...error.loss })
    try {
      this.#plan.onLoss?.(error)
    } catch (failure) {
      this.#logger.warn('events: onLoss threw', { namespace, topic, group, error: failure })
    }
    await this.#check()
  }

  /** Count what the group has, or notice that it is gone. */
  async #check(): Promise<void> {
    if (this.#checking || this.#left) return
    this.#checking = true
    const epoch = this.epoch
    try {
      const redis = await this.#client()
      const reply = await CHECK.run(redis, this.keys, [this.#plan.group, epoch])
      if (reply === LOST) {
        await this.lost(epoch)
        return
      }
      const [pending, lastId, eventId, topId] = reply as [number, string, string, string]
      const lastDelivered = sequenceOf(String(lastId))
      this.#count = {
        pending: Number(pending),
        lastDelivered,
        lastEventId: String(eventId),
        undelivered: Math.max(0, sequenceOf(String(topId)) - lastDelivered),
        at: Date.now(),
      }
    } catch {
      // Connection trouble: the consumer's own commands report it; the next check tries again.
    } finally {
      this.#checking = false
    }
  }
}
