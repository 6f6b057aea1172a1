import type { EventMetadata } from './events.js'
import type { RawEvent } from './payload.js'
import type { DeadLetterInfo } from './source.js'

/** A topic's counters, for inspection. */
export interface TopicState {
  topic: string
  last: number
  /** When the last event was stored (ms); 0 when none. */
  storedAt: number
}

/** A group's counters, for inspection. */
export interface GroupState {
  group: string
  cursor: number
  private: boolean
  pending: number
  /** Pending events claimed more than once. */
  retrying: number
}

/** A topic in a namespace. */
export interface TopicRef {
  namespace: string
  topic: string
}

/** A group of a topic. */
export interface GroupRef extends TopicRef {
  group: string
}

/** An event as a local log stores it. */
export interface LogEntry {
  id: string
  timestamp: number
  /** When the log stored it (ms), never less than the entry before it: offsets by time use this. */
  storedAt: number
  metadata: EventMetadata
  contentType: string
  data: Uint8Array
}

/** Where a new group starts: a sequence, the first event stored at or after a time, or the next event. */
export type GroupStart = { sequence: number } | { time: number } | 'next'

/** An event claimed for delivery to a group member. */
export interface Claim {
  event: RawEvent
  attempt: number
}

/** What a group has waiting, read without writing. */
export interface Peek {
  /** New events, or pending ones past their deadline, are there to claim. */
  due: boolean
  /** The earliest deadline of the group's pending events (Infinity when none). */
  nextDeadline: number
}

/**
 * Storage of the local implementations (memory, and file over LMDB), with the semantics
 * of a consumer group: a cursor over the topic plus pending entries (claimed, not yet
 * acked) that carry a deadline and an attempt count, as Redis Streams keep them. Every
 * change is atomic, so several processes can share one group through the file log.
 */
export interface LocalLog {
  /** Store an event; resolves with its sequence (1 for the first of a topic). */
  append(ref: TopicRef, entry: Omit<LogEntry, 'storedAt'>): Promise<number>
  /** Up to `limit` events from sequence `from` on, stored at or after `since` (ms) when given. */
  read(ref: TopicRef, from: number, since: number | undefined, limit: number): Promise<RawEvent[]>
  /** Create the group at `start` unless it exists (an existing group keeps its position). */
  joinGroup(ref: GroupRef, start: GroupStart, isPrivate: boolean): Promise<void>
  /** Whether a claim would find anything; cheap, and never writes. */
  peek(ref: GroupRef, now: number): Promise<Peek>
  /** Claim up to `max` events: expired pending ones first, then new ones; each gets a deadline `now + ackWait`. */
  claim(ref: GroupRef, ackWait: number, max: number): Promise<Claim[]>
  /** Settle an event: it is not delivered to the group again. */
  ack(ref: GroupRef, sequence: number): Promise<void>
  /**
   * Make a pending event due at once, if it is still at `attempt` (nobody claimed it
   * again since). `release` also takes back the attempt: it was never handed out.
   */
  nack(ref: GroupRef, sequence: number, attempt: number, release: boolean): Promise<void>
  /**
   * In one step: append the event to `target` with the dead-letter metadata (unless
   * target is false) and settle it, if it is still at `attempt`.
   */
  deadLetter(ref: GroupRef, sequence: number, target: string | false, info: DeadLetterInfo): Promise<void>
  /** Remove a group and its pending events. */
  leaveGroup(ref: GroupRef): Promise<void>
  /** Every topic of a namespace, sorted by name (inspection). */
  topics(namespace: string): Promise<TopicState[]>
  /** Every group of a topic, sorted by name (inspection). */
  groups(ref: TopicRef): Promise<GroupState[]>
  close(): Promise<void>
}
