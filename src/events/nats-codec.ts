import { createHash } from 'node:crypto'
import type { JsMsg } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'
import type { EventMetadata } from './events.js'
import { JSON_TYPE, type RawEvent } from './payload.js'

/** Headers an event carries in JetStream (besides `Nats-Msg-Id`, which deduplicates publishes). */
export const HEADER = {
  id: 'Micro-Id',
  timestamp: 'Micro-Timestamp',
  metadata: 'Micro-Metadata',
  contentType: 'Content-Type',
} as const

/** What goes in the headers of one event. */
export interface HeaderValues {
  id: string
  timestamp: number
  metadata: EventMetadata
  contentType: string
}

/** Fill `h` (from the client's `headers()`) with an event's fields. */
export function writeHeaders(h: MsgHdrs, values: HeaderValues): MsgHdrs {
  h.set(HEADER.id, values.id)
  h.set(HEADER.timestamp, String(values.timestamp))
  h.set(HEADER.contentType, values.contentType)
  // One JSON header keeps keys exactly as given (NATS headers are not a string map).
  if (Object.keys(values.metadata).length > 0) h.set(HEADER.metadata, JSON.stringify(values.metadata))
  return h
}

/**
 * A stored message as a raw event. Messages published by something else than micro-ts
 * get what can be made of them: the stream sequence as id, the stored time, JSON content.
 */
export function readMessage(m: JsMsg, topic: string, stream: string): RawEvent {
  const h = m.headers
  const stored = Number(m.timestampNanos / 1_000_000n)
  const timestamp = Number(h?.get(HEADER.timestamp) || Number.NaN)
  return {
    id: h?.get(HEADER.id) || h?.get('Nats-Msg-Id') || `${stream}-${m.seq}`,
    topic,
    sequence: m.seq,
    timestamp: Number.isFinite(timestamp) ? timestamp : stored,
    metadata: readMetadata(h?.get(HEADER.metadata)),
    contentType: h?.get(HEADER.contentType) || JSON_TYPE,
    data: m.data,
  }
}

function readMetadata(text: string | undefined): EventMetadata {
  if (!text) return {}
  try {
    const value: unknown = JSON.parse(text)
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const metadata: EventMetadata = {}
      for (const [k, v] of Object.entries(value)) if (k !== '__proto__') metadata[k] = String(v)
      return metadata
    }
  } catch {
    // kept as it came, below
  }
  return { [HEADER.metadata]: text }
}

/**
 * The durable consumer of a group on a topic. Consumer names may not hold dots, and one
 * stream holds every topic of a namespace, so the topic is folded into a hash.
 */
export function durableName(group: string, topic: string): string {
  return `${group}_${createHash('sha256').update(topic).digest('hex').slice(0, 16)}`
}
