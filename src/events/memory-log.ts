import type {
  Claim,
  GroupState as GroupCounts,
  GroupRef,
  GroupStart,
  LocalLog,
  LogEntry,
  Peek,
  TopicState as TopicCounts,
  TopicRef,
} from './local-log.js'
import type { RawEvent } from './payload.js'
import { type DeadLetterInfo, deadLetterOf } from './source.js'

interface Pending {
  attempts: number
  deadline: number
}

interface GroupState {
  /** The last sequence handed to the group. */
  cursor: number
  pending: Map<number, Pending>
  private: boolean
}

interface TopicState {
  /** Event with sequence n is at index n - 1. */
  events: LogEntry[]
  groups: Map<string, GroupState>
}

/** The local log held in this process's memory: lost when the process ends. */
export class MemoryLog implements LocalLog {
  readonly #topics = new Map<string, TopicState>()

  async append(ref: TopicRef, entry: Omit<LogEntry, 'storedAt'>): Promise<number> {
    return this.appendNow(ref, entry)
  }

  /** Synchronous append, for dead letters inside another step. */
  appendNow(ref: TopicRef, entry: Omit<LogEntry, 'storedAt'>): number {
    const state = this.#topic(ref)
    const last = state.events.at(-1)
    const storedAt = Math.max(Date.now(), last?.storedAt ?? 0)
    // A copy: the publisher may reuse its buffer.
    state.events.push({ ...entry, data: entry.data.slice(), storedAt })
    return state.events.length
  }

  async read(ref: TopicRef, from: number, since: number | undefined, limit: number): Promise<RawEvent[]> {
    const state = this.#topics.get(key(ref))
    if (!state) return []
    let start = Math.max(from, 1)
    if (since !== undefined) start = Math.max(start, this.#sequenceAt(state, since))
    const out: RawEvent[] = []
    for (let seq = start; seq <= state.events.length && out.length < limit; seq++)
      out.push(this.#raw(ref, state, seq))
    return out
  }

  async joinGroup(ref: GroupRef, start: GroupStart, isPrivate = false): Promise<void> {
    const state = this.#topic(ref)
    if (state.groups.has(ref.group)) return
    let cursor = state.events.length
    if (start !== 'next') {
      const first = 'sequence' in start ? Math.max(start.sequence, 1) : this.#sequenceAt(state, start.time)
      cursor = Math.min(first - 1, state.events.length)
    }
    state.groups.set(ref.group, { cursor, pending: new Map(), private: isPrivate })
  }

  async peek(ref: GroupRef, now: number): Promise<Peek> {
    const state = this.#topics.get(key(ref))
    const group = state?.groups.get(ref.group)
    if (!state || !group) return { due: false, nextDeadline: Number.POSITIVE_INFINITY }
    let nextDeadline = Number.POSITIVE_INFINITY
    for (const pending of group.pending.values()) nextDeadline = Math.min(nextDeadline, pending.deadline)
    return { due: group.cursor < state.events.length || nextDeadline <= now, nextDeadline }
  }

  async claim(ref: GroupRef, ackWait: number, max: number): Promise<Claim[]> {
    const state = this.#topics.get(key(ref))
    const group = state?.groups.get(ref.group)
    if (!state || !group) return []
    const now = Date.now()
    const claimed: Claim[] = []
    const expired = [...group.pending].filter(([, p]) => p.deadline <= now).sort(([a], [b]) => a - b)
    for (const [seq, pending] of expired) {
      if (claimed.length >= max) break
      pending.attempts++
      pending.deadline = now + ackWait
      claimed.push({ event: this.#raw(ref, state, seq), attempt: pending.attempts })
    }
    while (claimed.length < max && group.cursor < state.events.length) {
      const seq = ++group.cursor
      group.pending.set(seq, { attempts: 1, deadline: now + ackWait })
      claimed.push({ event: this.#raw(ref, state, seq), attempt: 1 })
    }
    return claimed
  }

  async ack(ref: GroupRef, sequence: number): Promise<void> {
    this.#topics.get(key(ref))?.groups.get(ref.group)?.pending.delete(sequence)
  }

  async nack(ref: GroupRef, sequence: number, attempt: number, release: boolean): Promise<void> {
    const pending = this.#topics.get(key(ref))?.groups.get(ref.group)?.pending.get(sequence)
    if (!pending || pending.attempts !== attempt) return
    pending.deadline = 0
    if (release) pending.attempts--
  }

  async deadLetter(
    ref: GroupRef,
    sequence: number,
    target: string | false,
    info: DeadLetterInfo,
  ): Promise<void> {
    const state = this.#topics.get(key(ref))
    const group = state?.groups.get(ref.group)
    const pending = group?.pending.get(sequence)
    if (!state || !group || !pending || pending.attempts !== info.attempt) return
    if (target !== false) {
      const event = this.#raw(ref, state, sequence)
      const { metadata, contentType } = deadLetterOf(event, info)
      const { id, timestamp, data } = event
      this.appendNow(
        { namespace: ref.namespace, topic: target },
        { id, timestamp, metadata, contentType, data },
      )
    }
    group.pending.delete(sequence)
  }

  async leaveGroup(ref: GroupRef): Promise<void> {
    this.#topics.get(key(ref))?.groups.delete(ref.group)
  }

  async topics(namespace: string): Promise<TopicCounts[]> {
    const prefix = `${namespace}\u0000`
    const out: TopicCounts[] = []
    for (const [name, state] of this.#topics) {
      if (!name.startsWith(prefix) || state.events.length === 0) continue
      out.push({
        topic: name.slice(prefix.length),
        last: state.events.length,
        storedAt: state.events.at(-1)?.storedAt ?? 0,
      })
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))
  }

  async groups(ref: TopicRef): Promise<GroupCounts[]> {
    const state = this.#topics.get(key(ref))
    if (!state) return []
    const out: GroupCounts[] = []
    for (const [group, g] of state.groups) {
      let retrying = 0
      for (const p of g.pending.values()) if (p.attempts > 1) retrying++
      out.push({ group, cursor: g.cursor, private: g.private, pending: g.pending.size, retrying })
    }
    return out.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))
  }

  async close(): Promise<void> {}

  #topic(ref: TopicRef): TopicState {
    let state = this.#topics.get(key(ref))
    if (!state) {
      state = { events: [], groups: new Map() }
      this.#topics.set(key(ref), state)
    }
    return state
  }

  /** The first sequence stored at or after `time`, or the next one to be stored. */
  #sequenceAt(state: TopicState, time: number): number {
    let low = 0
    let high = state.events.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if ((state.events[mid] as LogEntry).storedAt < time) low = mid + 1
      else high = mid
    }
    return low + 1
  }

  #raw(ref: TopicRef, state: TopicState, sequence: number): RawEvent {
    const entry = state.events[sequence - 1] as LogEntry
    return {
      id: entry.id,
      topic: ref.topic,
      sequence,
      timestamp: entry.timestamp,
      metadata: { ...entry.metadata },
      contentType: entry.contentType,
      // Every group gets its own copy: a consumer may write into what it was given.
      data: entry.data.slice(),
    }
  }
}

function key(ref: TopicRef): string {
  return `${ref.namespace}\u0000${ref.topic}`
}
