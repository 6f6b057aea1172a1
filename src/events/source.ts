import { MicroError } from '../errors/errors.js'
import type { EventMetadata } from './events.js'
import { BYTES_TYPE, type RawEvent } from './payload.js'

/** The promise a settlement returns when there is nothing to wait for (shared: no allocation). */
export const SETTLED: Promise<void> = Promise.resolve()

/**
 * One delivery of an event to a consumer, as an engine hands it to the shared consumer
 * loop (src/events/consumer.ts), which decodes it, enforces the retry limit and settles it.
 */
export interface Delivery {
  readonly event: RawEvent
  /** 1 on the first delivery to the group. */
  readonly attempt: number
  /**
   * Done with it. Resolves only once the engine confirmed the ack (so a consumer killed
   * right after never gets the event back); rejects when it did not.
   */
  ack(): Promise<void>
  /** Failed: make it available to the group again promptly; counts as an attempt. Resolves once confirmed. */
  nack(): Promise<void>
  /** Fetched but never handed to the application: give it back, not counting the attempt where the engine can. */
  release(): Promise<void>
  /**
   * Move it to the consumer's dead-letter topic with the reason (or drop it), settling it.
   * `undecodable` says the payload is why.
   */
  deadLetter(reason: string, undecodable?: boolean): Promise<void>
}

/** Takes each delivery of a pull as it arrives, synchronously and in order. */
export type Accept = (delivery: Delivery) => void

/** An engine's side of one consumer: its group, and deliveries from it. */
export interface DeliverySource {
  /**
   * How many pulls may be outstanding at once. More than 1 lets the consumer ask for the
   * next events while earlier ones are still on their way, instead of a round trip per batch.
   */
  readonly overlap: number
  /** Create or join the group and fix the start. */
  start(): Promise<void>
  /**
   * Ask for up to `max` deliveries and hand each to `accept` as it comes. Resolves once the
   * pull is over: `max` delivered, or it ended with fewer (e.g. a poll timed out: the caller
   * asks again). It ends promptly when `signal` aborts; a delivery that still arrives after
   * that is handed to `accept` too, which gives it back.
   */
  pull(max: number, signal: AbortSignal, accept: Accept): Promise<void>
  /** Stop: send what is queued (acks), release what the source holds; a private group is removed. */
  close(): Promise<void>
}

/** What a dead letter says about where it came from. */
export interface DeadLetterInfo {
  reason: string
  group: string
  attempt: number
  /** Set when the payload could not be decoded: the dead letter then carries it as plain bytes. */
  undecodable?: boolean
}

/** Metadata keys a dead-lettered event carries, besides the original's own. */
export const DEAD_LETTER_KEYS = {
  reason: 'dead-letter-reason',
  topic: 'dead-letter-topic',
  group: 'dead-letter-group',
  sequence: 'dead-letter-sequence',
  attempts: 'dead-letter-attempts',
  contentType: 'dead-letter-content-type',
} as const

/**
 * The event as it is stored on the dead-letter topic: same id, payload and metadata, plus
 * why and from where. An undecodable payload is kept as bytes (`application/octet-stream`)
 * so whoever reads the dead letters can take it.
 */
export function deadLetterOf(
  event: RawEvent,
  info: DeadLetterInfo,
): { metadata: EventMetadata; contentType: string } {
  const metadata: EventMetadata = {
    ...event.metadata,
    [DEAD_LETTER_KEYS.reason]: info.reason,
    [DEAD_LETTER_KEYS.topic]: event.topic,
    [DEAD_LETTER_KEYS.group]: info.group,
    [DEAD_LETTER_KEYS.sequence]: String(event.sequence),
    [DEAD_LETTER_KEYS.attempts]: String(info.attempt),
  }
  if (!info.undecodable) return { metadata, contentType: event.contentType }
  metadata[DEAD_LETTER_KEYS.contentType] = event.contentType
  return { metadata, contentType: BYTES_TYPE }
}

/**
 * Whether a failure of a source is final for the consumer (a MicroError below 500: bad
 * options, a refused configuration) rather than something to retry (connection trouble).
 */
export function isFatal(error: unknown): boolean {
  return error instanceof MicroError && error.code < 500
}
