import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Database, Key, RootDatabase } from 'lmdb'
import { type LmdbHandle, openLmdb } from '../engines/lmdb.js'
import { serviceUnavailable } from '../errors/errors.js'
import type { EventMetadata } from './events.js'
import type {
  Claim,
  GroupRef,
  GroupStart,
  GroupState,
  LocalLog,
  LogEntry,
  Peek,
  TopicRef,
  TopicState,
} from './local-log.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { RawEvent } from './payload.js'
import { type DeadLetterInfo, deadLetterOf } from './source.js'

/** An event as stored (short keys: every event carries them). */
interface Stored {
  i: string
  t: number
  s: number
  m: EventMetadata
  c: string
  d: Uint8Array
}

interface TopicMeta {
  last: number
  storedAt: number
}

interface GroupMeta {
  cursor: number
  private: boolean
}

/** A claimed event: attempts so far, and when it is due again. */
interface PendingMeta {
  a: number
  d: number
}

const END = Number.MAX_SAFE_INTEGER

/**
 * The local log in an LMDB environment (`<directory>/events.mdb`), shared by every process
 * that opens the directory. Appends, claims and settlements are LMDB write transactions,
 * which serialise across processes, so members of one group in several processes never
 * claim the same event at once. Keys are `[namespace, topic, ...]` tuples:
 * `events` [ns, topic, seq], `topics` [ns, topic] (last sequence), `groups` [ns, topic,
 * group] (cursor), `pending` [ns, topic, group, seq] (attempts and deadline).
 */
export class FileLog implements LocalLog {
  readonly #root: RootDatabase
  readonly #handle: LmdbHandle
  readonly #events: Database<Stored, Key>
  readonly #topics: Database<TopicMeta, Key>
  readonly #groups: Database<GroupMeta, Key>
  readonly #pending: Database<PendingMeta, Key>

  private constructor(handle: LmdbHandle) {
    this.#handle = handle
    const root = handle.root
    this.#root = root
    this.#events = root.openDB<Stored, Key>({ name: 'events' })
    this.#topics = root.openDB<TopicMeta, Key>({ name: 'topics' })
    this.#groups = root.openDB<GroupMeta, Key>({ name: 'groups' })
    this.#pending = root.openDB<PendingMeta, Key>({ name: 'pending' })
  }

  /** Open (creating it when missing) the log in `directory`. */
  static async open(directory: string): Promise<FileLog> {
    try {
      await mkdir(directory, { recursive: true })
      return new FileLog(await openLmdb(join(directory, 'events.mdb'), { maxDbs: 8 }))
    } catch (error) {
      throw serviceUnavailable(
        EVENTS_ERROR_ID,
        `cannot open the events log in ${directory}: ${(error as Error).message}`,
      )
    }
  }

  append(ref: TopicRef, entry: Omit<LogEntry, 'storedAt'>): Promise<number> {
    return this.#root.transaction(() => this.#append(ref, entry))
  }

  async read(ref: TopicRef, from: number, since: number | undefined, limit: number): Promise<RawEvent[]> {
    this.#root.resetReadTxn()
    let start = Math.max(from, 1)
    if (since !== undefined) start = Math.max(start, this.#sequenceAt(ref, since))
    const range = this.#events.getRange({
      start: [ref.namespace, ref.topic, start],
      end: [ref.namespace, ref.topic, END],
      limit,
    })
    const out: RawEvent[] = []
    for (const { key, value } of range)
      out.push(toRaw(ref.topic, (key as [string, string, number])[2], value))
    return out
  }

  async joinGroup(ref: GroupRef, start: GroupStart, isPrivate: boolean): Promise<void> {
    await this.#root.transaction(() => {
      const key = groupKey(ref)
      if (this.#groups.get(key)) return
      const last = this.#topics.get(topicKey(ref))?.last ?? 0
      let cursor = last
      if (start !== 'next') {
        const first = 'sequence' in start ? Math.max(start.sequence, 1) : this.#sequenceAt(ref, start.time)
        cursor = Math.min(first - 1, last)
      }
      this.#groups.put(key, { cursor, private: isPrivate })
    })
  }

  async peek(ref: GroupRef, now: number): Promise<Peek> {
    // Another process may have written since this process last looked.
    this.#root.resetReadTxn()
    const group = this.#groups.get(groupKey(ref))
    if (!group) return { due: false, nextDeadline: Number.POSITIVE_INFINITY }
    let nextDeadline = Number.POSITIVE_INFINITY
    for (const { value } of this.#pendingRange(ref)) nextDeadline = Math.min(nextDeadline, value.d)
    const last = this.#topics.get(topicKey(ref))?.last ?? 0
    return { due: group.cursor < last || nextDeadline <= now, nextDeadline }
  }

  claim(ref: GroupRef, ackWait: number, max: number): Promise<Claim[]> {
    return this.#root.transaction(() => {
      const group = this.#groups.get(groupKey(ref))
      if (!group) return []
      const now = Date.now()
      const claimed: Claim[] = []
      const expired: [number, PendingMeta][] = []
      for (const { key, value } of this.#pendingRange(ref)) {
        if (expired.length >= max) break
        if (value.d <= now) expired.push([(key as number[])[3] as number, value])
      }
      for (const [seq, pending] of expired) {
        const event = this.#events.get([ref.namespace, ref.topic, seq])
        if (!event) {
          this.#pending.remove(pendingKey(ref, seq))
          continue
        }
        this.#pending.put(pendingKey(ref, seq), { a: pending.a + 1, d: now + ackWait })
        claimed.push({ event: toRaw(ref.topic, seq, event), attempt: pending.a + 1 })
      }
      const last = this.#topics.get(topicKey(ref))?.last ?? 0
      let cursor = group.cursor
      while (claimed.length < max && cursor < last) {
        const seq = ++cursor
        const event = this.#events.get([ref.namespace, ref.topic, seq])
        if (!event) continue
        this.#pending.put(pendingKey(ref, seq), { a: 1, d: now + ackWait })
        claimed.push({ event: toRaw(ref.topic, seq, event), attempt: 1 })
      }
      if (cursor !== group.cursor) this.#groups.put(groupKey(ref), { ...group, cursor })
      return claimed
    })
  }

  async ack(ref: GroupRef, sequence: number): Promise<void> {
    await this.#pending.remove(pendingKey(ref, sequence))
  }

  async nack(ref: GroupRef, sequence: number, attempt: number, release: boolean): Promise<void> {
    await this.#root.transaction(() => {
      const key = pendingKey(ref, sequence)
      const pending = this.#pending.get(key)
      if (!pending || pending.a !== attempt) return
      this.#pending.put(key, { a: release ? pending.a - 1 : pending.a, d: 0 })
    })
  }

  async deadLetter(
    ref: GroupRef,
    sequence: number,
    target: string | false,
    info: DeadLetterInfo,
  ): Promise<void> {
    await this.#root.transaction(() => {
      const key = pendingKey(ref, sequence)
      const pending = this.#pending.get(key)
      if (!pending || pending.a !== info.attempt) return
      const stored = this.#events.get([ref.namespace, ref.topic, sequence])
      if (target !== false && stored) {
        const event = toRaw(ref.topic, sequence, stored)
        const { metadata, contentType } = deadLetterOf(event, info)
        const { id, timestamp, data } = event
        this.#append(
          { namespace: ref.namespace, topic: target },
          { id, timestamp, metadata, contentType, data },
        )
      }
      this.#pending.remove(key)
    })
  }

  async leaveGroup(ref: GroupRef): Promise<void> {
    await this.#root.transaction(() => {
      this.#groups.remove(groupKey(ref))
      const keys = [...this.#pendingRange(ref)].map(({ key }) => key)
      for (const key of keys) this.#pending.remove(key)
    })
  }

  async topics(namespace: string): Promise<TopicState[]> {
    this.#root.resetReadTxn()
    const out: TopicState[] = []
    // Tuple keys sort by their first element first: the namespace's topics are one run.
    for (const { key, value } of this.#topics.getRange({ start: [namespace] })) {
      const [ns, topic] = key as [string, string]
      if (ns !== namespace) break
      if (value.last > 0) out.push({ topic, last: value.last, storedAt: value.storedAt })
    }
    return out
  }

  async groups(ref: TopicRef): Promise<GroupState[]> {
    this.#root.resetReadTxn()
    const out: GroupState[] = []
    for (const { key, value } of this.#groups.getRange({ start: [ref.namespace, ref.topic] })) {
      const [ns, topic, group] = key as [string, string, string]
      if (ns !== ref.namespace || topic !== ref.topic) break
      let pending = 0
      let retrying = 0
      for (const entry of this.#pendingRange({ ...ref, group })) {
        pending++
        if (entry.value.a > 1) retrying++
      }
      out.push({ group, cursor: value.cursor, private: value.private, pending, retrying })
    }
    return out
  }

  async close(): Promise<void> {
    await this.#handle.release()
  }

  /** Append inside the current write transaction. */
  #append(ref: TopicRef, entry: Omit<LogEntry, 'storedAt'>): number {
    const meta = this.#topics.get(topicKey(ref)) ?? { last: 0, storedAt: 0 }
    const sequence = meta.last + 1
    // Never earlier than the event before: offsets by time search on this.
    const storedAt = Math.max(Date.now(), meta.storedAt)
    const stored: Stored = {
      i: entry.id,
      t: entry.timestamp,
      s: storedAt,
      m: entry.metadata,
      c: entry.contentType,
      d: entry.data,
    }
    this.#events.put([ref.namespace, ref.topic, sequence], stored)
    this.#topics.put(topicKey(ref), { last: sequence, storedAt })
    return sequence
  }

  /** The first sequence stored at or after `time`, or the next one to be stored. */
  #sequenceAt(ref: TopicRef, time: number): number {
    const last = this.#topics.get(topicKey(ref))?.last ?? 0
    let low = 1
    let high = last + 1
    while (low < high) {
      const mid = Math.floor((low + high) / 2)
      const stored = this.#events.get([ref.namespace, ref.topic, mid])
      if (stored && stored.s < time) low = mid + 1
      else high = mid
    }
    return low
  }

  #pendingRange(ref: GroupRef) {
    return this.#pending.getRange({
      start: [ref.namespace, ref.topic, ref.group, 0],
      end: [ref.namespace, ref.topic, ref.group, END],
    })
  }
}

function topicKey(ref: TopicRef): Key {
  return [ref.namespace, ref.topic]
}

function groupKey(ref: GroupRef): Key {
  return [ref.namespace, ref.topic, ref.group]
}

function pendingKey(ref: GroupRef, sequence: number): Key {
  return [ref.namespace, ref.topic, ref.group, sequence]
}

function toRaw(topic: string, sequence: number, stored: Stored): RawEvent {
  return {
    id: stored.i,
    topic,
    sequence,
    timestamp: stored.t,
    metadata: stored.m,
    contentType: stored.c,
    data: stored.d,
  }
}
