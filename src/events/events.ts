import type { Codec } from '../codec/codec.js'
import type { NamespaceOption } from '../registry/registry.js'
import type { GroupLostError } from './loss.js'

/** Metadata travels with an event as string pairs, as in Go Micro. */
export type EventMetadata = Record<string, string>

/** What `publish` stored: enough to find the event again. */
export interface EventRecord {
  /** A UUID, unique per event (a dead-lettered copy keeps the original's id). */
  id: string
  topic: string
  /**
   * Position in the stream, increasing with every event stored on the topic. Numbers
   * need not be contiguous (NATS counts per namespace); pass one as `offset` to start there.
   */
  sequence: number
  /** The publisher's time (the `timestamp` option, or when it published). */
  timestamp: Date
  metadata: EventMetadata
}

/** An event read back from a stream. */
export interface StoredEvent<T = unknown> extends EventRecord {
  /** `application/json` for values, `application/octet-stream` for bytes, or what the publisher set. */
  contentType: string
  /** The decoded payload: the JSON value, or the bytes themselves when not JSON. */
  payload: T
  /** The bytes as stored. */
  raw: Uint8Array
  /** Set (and `payload` undefined) when a JSON payload does not parse; only `read` returns such events. */
  decodeError?: string
}

/** An event delivered to a consumer. Settle it once with `ack` or `nack` (manual ack). */
export interface ReceivedEvent<T = unknown> extends StoredEvent<T> {
  /** Which delivery this is to the group: 1 the first time, more after redeliveries. */
  attempt: number
  /**
   * Done with it: the group never sees it again. Resolves once the engine has the ack, so a
   * consumer that dies right after does not get the event back; rejects when the engine
   * did not confirm it (the event may then come again). Later calls do nothing.
   */
  ack(): Promise<void>
  /**
   * Failed: redeliver it to the group promptly (or dead-letter it when this was the last
   * attempt `retryLimit` allows). `reason` ends up in the dead letter's metadata.
   */
  nack(reason?: string): Promise<void>
}

/** Options of {@link Events.publish}. */
export interface PublishOptions extends NamespaceOption {
  metadata?: EventMetadata
  /** The event's time; defaults to now. Offsets by time use the stored time instead. */
  timestamp?: Date
  /**
   * Content type of a bytes payload (default `application/octet-stream`). Bytes sent as
   * `application/json` are stored as they are and decoded by consumers.
   */
  contentType?: string
  /** Encode the payload with this codec (typed messages: `protobufCodec(OrderSchema)`), stored with its content type. */
  codec?: Codec
}

/** Where a new group starts: a sequence number (1 is the first event) or a time. */
export type EventOffset = number | Date

/** Options of {@link Events.consume}. */
export interface ConsumeOptions extends NamespaceOption {
  /**
   * Members of one group share the events (each goes to one member); every group gets all
   * of them. Without a group the consumer is a group of its own, removed when it stops.
   * Letters, digits, `_` and `-`.
   */
  group?: string
  /**
   * Where a group starts when it is created: the event with this sequence number, or the
   * first event stored at or after this time. Default: events published from now on. An
   * existing group keeps its position (the offset is ignored), so members can join freely.
   */
  offset?: EventOffset
  /**
   * `auto` (default): an event is acknowledged once the consumer takes it from the
   * iterator. `manual`: call `ack()` or `nack()`; events not settled within `ackWait`
   * are redelivered to the group.
   */
  ack?: 'auto' | 'manual'
  /** How long a delivered event may stay unsettled before it is redelivered, in ms. Default 30 s. */
  ackWait?: number
  /**
   * How many times a failed event (nacked, or not acked within ackWait) is redelivered;
   * the event is delivered at most `retryLimit + 1` times, then dead-lettered. Default 3;
   * `Infinity` retries forever.
   */
  retryLimit?: number
  /** Where events out of retries, or that cannot be decoded, go: default `<topic>.dead`; `false` drops them. */
  deadLetter?: string | false
  /** How many events this consumer holds unsettled at most (fetched ahead or delivered). Default 100. */
  maxInFlight?: number
  /** Stops the consumer. */
  signal?: AbortSignal
  /**
   * Hears when the engine lost the group's state (Redis restarted without persistence, or
   * the group was removed by hand). The consumer makes the group again and goes on; the
   * error says how many events were lost (`error.loss`). The loss is logged as an error
   * whether or not this is set.
   */
  onLoss?: (error: GroupLostError) => void
  /**
   * Decode payloads of this codec's content type with it (typed messages:
   * `protobufCodec(OrderSchema)`); an event it cannot decode is dead-lettered with the reason.
   */
  codec?: Codec
}

/** Options of {@link Events.read}. */
export interface ReadOptions extends NamespaceOption {
  /** The first sequence number to return (default: the start of the stream). */
  offset?: number
  /** Only events stored at or after this time. */
  since?: Date
  /** At most this many events (default 100). */
  limit?: number
}

/**
 * A stream of events: `for await (const event of consumer)`. Iteration ends when the
 * consumer is stopped (or its signal aborts, or the Events instance closes); a failure the
 * consumer cannot recover from (e.g. a bad option the engine refuses) is thrown from it.
 */
export interface EventConsumer<T = unknown> extends AsyncIterable<ReceivedEvent<T>> {
  /**
   * Resolves once the consumer's group exists and its start is fixed: an event published
   * after that is certain to reach the group. Rejects when the consumer cannot start.
   */
  readonly ready: Promise<void>
  /** Stop taking events. Events fetched ahead but not yet taken go back to the group. */
  stop(): void
}

/**
 * Durable event streams (Go Micro's `events.Stream` and `events.Store` in one): publish
 * to a topic, consume in groups with acknowledgements, retries and a dead-letter topic,
 * and read a stream back from any point. Every call takes a namespace (default `micro`).
 */
export interface Events {
  /** The implementation's name: `memory`, `file`, `nats` or `redis`. */
  readonly name: string
  /**
   * Store an event. The payload is JSON-encoded unless it is bytes (a Uint8Array). An
   * empty or malformed topic, or a payload JSON cannot encode, is a 400 MicroError.
   */
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<EventRecord>
  /** Consume a topic: see {@link ConsumeOptions}. Bad options throw a 400 MicroError at once. */
  consume<T = unknown>(topic: string, options?: ConsumeOptions): EventConsumer<T>
  /** Events of a topic in order, from an offset or a time. */
  read<T = unknown>(topic: string, options?: ReadOptions): Promise<StoredEvent<T>[]>
  /** End every consumer and release connections and timers; later calls fail with a 503. */
  close(): Promise<void>
}
