import type { MicroErrorJSON } from '../../errors/errors.js'
import type { EventMetadata, EventRecord } from '../../events/events.js'
import type { GroupLoss } from '../../events/loss.js'
import { decodePayload, type RawEvent } from '../../events/payload.js'
import { decodeBytes, encodeBytes } from './wire.js'

/** An event as it travels: times as ISO 8601, the stored bytes as base64 in `data`. */
export interface WireEvent {
  id: string
  topic: string
  sequence: number
  timestamp: string
  metadata: EventMetadata
  contentType: string
  data: string
  /** The decoded JSON payload, for callers that do not want to decode `data` (reads only). */
  payload?: unknown
  /** Why a JSON payload does not decode (reads only). */
  decodeError?: string
}

/** What `Events.Publish` answers. */
export interface WireEventRecord {
  id: string
  topic: string
  sequence: number
  timestamp: string
  metadata: EventMetadata
}

/** How a remote consumer settles one delivery. */
export type SettleHow = 'ack' | 'nack' | 'release' | 'deadLetter'

/** What a consumer sends on `Events.Consume` after its first message (the consume request). */
export type ConsumeInput =
  | { pull: number; max: number }
  | { abort: number }
  | { tag: number; settle: SettleHow; reason?: string; undecodable?: boolean }

/** What `Events.Consume` sends back. */
export type ConsumeOutput =
  /** The group exists and its start is fixed; `overlap` pulls may run at once. */
  | { started: true; overlap: number }
  /** One delivery of pull `pull`, settled later by its `tag`. */
  | { pull: number; tag: number; attempt: number; event: WireEvent }
  /** Pull `pull` is over (with the error when it failed). */
  | { pull: number; ended: true; error?: MicroErrorJSON }
  /** The delivery `tag` was settled, or could not be. */
  | { tag: number; settled: true }
  | { tag: number; error: MicroErrorJSON }
  /** The engine lost the group's state; consuming goes on (see GroupLostError). */
  | { loss: GroupLoss; engine: string }

/** An event for the wire. `withPayload` adds the decoded JSON for readers in other languages. */
export function toWireEvent(event: RawEvent, withPayload = false): WireEvent {
  const wire: WireEvent = {
    id: event.id,
    topic: event.topic,
    sequence: event.sequence,
    timestamp: new Date(event.timestamp).toISOString(),
    metadata: event.metadata,
    contentType: event.contentType,
    data: encodeBytes(event.data),
  }
  if (withPayload) {
    const decoded = decodePayload(event)
    if ('error' in decoded) wire.decodeError = decoded.error
    else if (!(decoded.payload instanceof Uint8Array)) wire.payload = decoded.payload
  }
  return wire
}

/** An event back from the wire, as the engines hand it to the consumer loop. */
export function fromWireEvent(wire: WireEvent): RawEvent {
  return {
    id: wire.id,
    topic: wire.topic,
    sequence: wire.sequence,
    timestamp: Date.parse(wire.timestamp),
    metadata: wire.metadata ?? {},
    contentType: wire.contentType,
    data: decodeBytes(wire.data, 'data'),
  }
}

/** A published event's record for the wire. */
export function toWireRecord(record: EventRecord): WireEventRecord {
  return { ...record, timestamp: record.timestamp.toISOString() }
}

/** A published event's record back from the wire. */
export function fromWireRecord(wire: WireEventRecord): EventRecord {
  return { ...wire, timestamp: new Date(wire.timestamp) }
}
