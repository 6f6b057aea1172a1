import { MicroError } from '../errors/errors.js'
import { EVENTS_ERROR_ID } from './names.js'

/** What an engine lost of a group's state, as far as a consumer of the group can tell. */
export interface GroupLoss {
  namespace: string
  topic: string
  group: string
  /**
   * Events delivered to the group and not acknowledged, at the consumer's last look before
   * the loss (undefined when it never looked): they are not delivered again.
   */
  pending: number | undefined
  /** Events stored and not yet delivered to the group, at that look: gone with the stream. */
  undelivered: number | undefined
  /** The last sequence the group had been given, at that look (0 when unknown). */
  lastDelivered: number
  /** When that look was, ms since the epoch (undefined when never). */
  countedAt: number | undefined
  /** Events this consumer held unsettled: settling them now fails with a 409. */
  held: number
  /**
   * The sequence the group was made again after: the next event it gets is the first one
   * stored after it (0: from the start of the stream). -1 when another member had already
   * made it again and this consumer joined that group.
   */
  restartedAfter: number
}

/**
 * The engine lost a consumer group's state (Redis restarted without persistence, or the
 * group or stream was removed by hand): the group was made again and consuming goes on,
 * but what the group had not finished is gone. Reported to `onLoss` and logged as an error;
 * never thrown from the iterator. `loss` has the counts.
 */
export class GroupLostError extends MicroError {
  readonly loss: GroupLoss

  constructor(engine: string, loss: GroupLoss, now = Date.now()) {
    super(EVENTS_ERROR_ID, lossDetail(engine, loss, now), 500)
    this.name = 'GroupLostError'
    this.loss = loss
  }
}

function lossDetail(engine: string, loss: GroupLoss, now: number): string {
  const { namespace, topic, group, pending, undelivered, held, countedAt, restartedAfter } = loss
  const counts =
    countedAt === undefined
      ? 'how many events it had not finished is unknown (it was lost before the first count)'
      : `${pending} events delivered and not acknowledged and ${undelivered} not yet delivered, as counted ${Math.max(0, now - countedAt)} ms before, are gone`
  const again =
    restartedAfter < 0
      ? 'another member had made the group again; this consumer joined it'
      : `the group was made again ${restartedAfter === 0 ? 'at the start of the stream' : `after sequence ${restartedAfter}`}`
  return `${engine} lost the consumer group "${group}" of ${topic} in namespace ${namespace} (did it restart without persistence?): ${counts}; this consumer held ${held} of them; ${again}`
}
