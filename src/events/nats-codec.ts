import { createHash } from 'node:crypto'
import type { JsMsg } from '@nats-io/jetstream'
import type { Msg, MsgHdrs } from '@nats-io/transport-node'
import type { EventMetadata } from './events.js'
import { JSON_TYPE, metadataFromJson, type RawEvent } from './payload.js'

/** Headers an event carries in JetStream. */
export const HEADER = {
  /** Deduplicates publishes; also the event id when `Micro-Id` is absent. */
  msgId: 'Nats-Msg-Id',
  /** The event id, written only when it differs from `Nats-Msg-Id` (dead letters). */
  id: 'Micro-Id',
  timestamp: 'Micro-Timestamp',
  metadata: 'Micro-Metadata',
  /** Written only when not JSON: a message without it is JSON. */
  contentType: 'Content-Type',
} as const

/** What goes in the headers of one event. */
export interface HeaderValues {
  id: string
  timestamp: number
  metadata: EventMetadata
  contentType: string
}

/**
 * Fill `h` (from the client's `headers()`) with an event's fields. What a reader can infer
 * is left out to keep every stored message small: the id when it is the message id the
 * publish sets anyway, and the content type when it is JSON.
 */
export function writeHeaders(h: MsgHdrs, values: HeaderValues, msgId: string): MsgHdrs {
  if (values.id !== msgId) h.set(HEADER.id, values.id)
  h.set(HEADER.timestamp, String(values.timestamp))
  if (values.contentType !== JSON_TYPE) h.set(HEADER.contentType, values.contentType)
  // One JSON header keeps keys exactly as given (NATS headers are not a string map).
  for (const _ in values.metadata) {
    h.set(HEADER.metadata, JSON.stringify(values.metadata))
    break
  }
  return h
}

/** The header fields an event is made of ('' when absent). */
interface Fields {
  msgId: string
  id: string
  timestamp: string
  metadata: string
  contentType: string
}

/** What the ack subject of a delivered JetStream message says about it. */
export interface DeliveryInfo {
  /** 1 on the first delivery to the consumer. */
  deliveryCount: number
  streamSequence: number
  /** When the stream stored it, ms since the epoch. */
  storedMs: number
}

/**
 * Read the ack subject of a delivered message: `$JS.ACK.<stream>.<consumer>.<delivered>.
 * <stream seq>.<consumer seq>.<stored ns>.<pending>`, or the newer form with a domain and an
 * account hash after `ACK` (and a random token at the end). Undefined when it is not one.
 */
export function parseDeliveryInfo(reply: string): DeliveryInfo | undefined {
  const tokens = reply.split('.')
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined
  const at = tokens.length === 9 ? 4 : tokens.length >= 11 ? 6 : -1
  if (at < 0) return undefined
  const deliveryCount = Number(tokens[at])
  const streamSequence = Number(tokens[at + 1])
  if (!(deliveryCount > 0 && streamSequence > 0)) return undefined
  return { deliveryCount, streamSequence, storedMs: Math.floor(Number(tokens[at + 3]) / 1e6) }
}

/** The private parts of nats.js's message that hold the raw header block (see headerBlock). */
interface RawMsgParts {
  _msg?: { hdr?: unknown }
  _rdata?: unknown
}

const decoder = new TextDecoder()

/**
 * The header block of a message as text, read from the received bytes; undefined when the
 * client's message does not look as expected (then `msg.headers` is used). nats.js decodes
 * headers into a map with per-key normalisation and checks, which cost more than the rest
 * of receiving an event; an event needs four known keys, found here in one pass.
 */
function headerBlock(msg: Msg): string | undefined {
  const parts = msg as unknown as RawMsgParts
  const length = parts._msg?.hdr
  const bytes = parts._rdata
  if (typeof length !== 'number' || !(bytes instanceof Uint8Array) || length > bytes.length) return undefined
  return length > 0 ? decoder.decode(bytes.subarray(0, length)) : ''
}

/** The fields of a `NATS/1.0` header block: the first value of each key we know, trimmed. */
export function parseHeaderBlock(text: string): Fields {
  const fields: Fields = { msgId: '', id: '', timestamp: '', metadata: '', contentType: '' }
  let start = text.indexOf('\r\n') + 2
  while (start > 1 && start < text.length) {
    const end = text.indexOf('\r\n', start)
    const stop = end < 0 ? text.length : end
    const colon = text.indexOf(':', start)
    if (colon > start && colon < stop) setField(fields, text.slice(start, colon), text, colon + 1, stop)
    if (end < 0) break
    start = end + 2
  }
  return fields
}

function setField(fields: Fields, key: string, text: string, from: number, to: number): void {
  let name: keyof Fields
  if (key === HEADER.msgId) name = 'msgId'
  else if (key === HEADER.id) name = 'id'
  else if (key === HEADER.timestamp) name = 'timestamp'
  else if (key === HEADER.metadata) name = 'metadata'
  else if (key === HEADER.contentType) name = 'contentType'
  else return
  if (fields[name] === '') fields[name] = text.slice(from, to).trim()
}

function fieldsOf(h: MsgHdrs | undefined): Fields {
  return {
    msgId: h?.get(HEADER.msgId) ?? '',
    id: h?.get(HEADER.id) ?? '',
    timestamp: h?.get(HEADER.timestamp) ?? '',
    metadata: h?.get(HEADER.metadata) ?? '',
    contentType: h?.get(HEADER.contentType) ?? '',
  }
}

/**
 * A delivered message as a raw event. Messages published by something else than micro-ts
 * get what can be made of them: the stream sequence as id, the stored time, JSON content.
 */
export function deliveredEvent(msg: Msg, info: DeliveryInfo, topic: string, stream: string): RawEvent {
  const text = headerBlock(msg)
  const fields = text === undefined ? fieldsOf(msg.headers) : parseHeaderBlock(text)
  return rawEvent(fields, topic, stream, info.streamSequence, info.storedMs, msg.data)
}

/** A stored message (from a read) as a raw event; see {@link deliveredEvent}. */
export function readMessage(m: JsMsg, topic: string, stream: string): RawEvent {
  const stored = Number(m.timestampNanos / 1_000_000n)
  return rawEvent(fieldsOf(m.headers), topic, stream, m.seq, stored, m.data)
}

function rawEvent(
  fields: Fields,
  topic: string,
  stream: string,
  sequence: number,
  storedMs: number,
  data: Uint8Array,
): RawEvent {
  const timestamp = fields.timestamp === '' ? Number.NaN : Number(fields.timestamp)
  return {
    id: fields.id || fields.msgId || `${stream}-${sequence}`,
    topic,
    sequence,
    timestamp: Number.isFinite(timestamp) ? timestamp : storedMs,
    metadata: metadataFromJson(fields.metadata, HEADER.metadata),
    contentType: fields.contentType || JSON_TYPE,
    data,
  }
}

/**
 * The durable consumer of a group on a topic. Consumer names may not hold dots, and one
 * stream holds every topic of a namespace, so the topic is folded into a hash.
 */
export function durableName(group: string, topic: string): string {
  return `${group}_${createHash('sha256').update(topic).digest('hex').slice(0, 16)}`
}
