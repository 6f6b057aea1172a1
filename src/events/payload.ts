import type { Codec } from '../codec/codec.js'
import { badRequest } from '../errors/errors.js'
import type { EventMetadata, StoredEvent } from './events.js'
import { EVENTS_ERROR_ID } from './names.js'

/** Content type of JSON-encoded payloads. */
export const JSON_TYPE = 'application/json'
/** Content type of bytes published without one. */
export const BYTES_TYPE = 'application/octet-stream'

/** An event as the engines store it, before its payload is decoded. */
export interface RawEvent {
  id: string
  topic: string
  sequence: number
  /** The publisher's time, ms since the epoch. */
  timestamp: number
  metadata: EventMetadata
  contentType: string
  data: Uint8Array
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Bytes and content type for a payload: JSON unless it is bytes. A value JSON cannot encode is a 400. */
export function encodePayload(
  payload: unknown,
  contentType?: string,
): { data: Uint8Array; contentType: string } {
  if (payload instanceof Uint8Array) return { data: payload, contentType: contentType || BYTES_TYPE }
  if (contentType !== undefined && !isJsonType(contentType)) {
    throw badRequest(EVENTS_ERROR_ID, `contentType ${contentType} needs a bytes payload (a Uint8Array)`)
  }
  let text: string | undefined
  try {
    text = JSON.stringify(payload)
  } catch (error) {
    throw badRequest(EVENTS_ERROR_ID, `the payload cannot be encoded as JSON: ${(error as Error).message}`)
  }
  if (text === undefined)
    throw badRequest(EVENTS_ERROR_ID, `the payload cannot be encoded as JSON: ${typeof payload}`)
  return { data: encoder.encode(text), contentType: JSON_TYPE }
}

/** Bytes and content type of a payload encoded by `codec`; a payload it cannot encode is a 400. */
export function encodeWith(codec: Codec, payload: unknown): { data: Uint8Array; contentType: string } {
  try {
    return { data: codec.encode(payload), contentType: codec.contentType }
  } catch (error) {
    throw badRequest(
      EVENTS_ERROR_ID,
      `the payload cannot be encoded as ${codec.contentType}: ${(error as Error).message}`,
    )
  }
}

/** Whether a content type means JSON (`application/json`, `...+json`, with or without parameters). */
export function isJsonType(contentType: string): boolean {
  const base = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return base === JSON_TYPE || base.endsWith('+json')
}

/** Why a payload could not be decoded (see {@link decodeValue}). */
export class DecodeFailure {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

/**
 * The payload of a raw event: the JSON value, or the bytes; a DecodeFailure when the JSON
 * is bad. (No wrapper object per event: consumers decode every event they receive.)
 */
export function decodeValue(event: RawEvent): unknown {
  const type = event.contentType
  if (type !== JSON_TYPE && !isJsonType(type)) return event.data
  try {
    return JSON.parse(decoder.decode(event.data))
  } catch (error) {
    return new DecodeFailure(`undecodable ${type} payload: ${(error as Error).message}`)
  }
}

/** Like {@link decodeValue}, with `codec` for the events of its content type. */
export function decodeValueWith(event: RawEvent, codec: Codec | undefined): unknown {
  if (codec === undefined || !codecTakes(codec, event.contentType)) return decodeValue(event)
  try {
    return codec.decode(event.data)
  } catch (error) {
    return new DecodeFailure(`undecodable ${event.contentType} payload: ${(error as Error).message}`)
  }
}

function codecTakes(codec: Codec, contentType: string): boolean {
  const base = (contentType.split(';')[0] ?? '').trim().toLowerCase()
  return base === codec.contentType || (codec.aliases?.includes(base) ?? false)
}

/** The payload of a raw event: the JSON value, or the bytes; an error message when the JSON is bad. */
export function decodePayload(event: RawEvent): { payload: unknown } | { error: string } {
  const value = decodeValue(event)
  return value instanceof DecodeFailure ? { error: value.message } : { payload: value }
}

/** A raw event as `read` returns it: decoded, with `decodeError` when that failed. */
export function toStoredEvent<T>(event: RawEvent): StoredEvent<T> {
  const decoded = decodePayload(event)
  const stored: StoredEvent<T> = {
    id: event.id,
    topic: event.topic,
    sequence: event.sequence,
    timestamp: new Date(event.timestamp),
    metadata: event.metadata,
    contentType: event.contentType,
    payload: ('payload' in decoded ? decoded.payload : undefined) as T,
    raw: event.data,
  }
  if ('error' in decoded) stored.decodeError = decoded.error
  return stored
}

/**
 * Metadata stored as JSON text, as events carry it on the engines that keep it as one
 * field. Text that is not a JSON object is kept whole under `fallbackKey`, not dropped.
 */
export function metadataFromJson(text: string | undefined, fallbackKey: string): EventMetadata {
  if (!text || text === '{}') return {}
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
  return { [fallbackKey]: text }
}
