import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { badRequest, payloadTooLarge } from '../errors/errors.js'
import type { Announcement } from './mdns-records.js'
import { cloneService, isEndpoint, isNode, isObject, isStringMap } from './records.js'
import type { ServiceRecord } from './registry.js'

/**
 * The TXT payload of an announcement: the JSON
 * `{v, namespace, service: {name, version, metadata, endpoints}, node}`, deflated (raw) and cut
 * into 255-byte strings. Decoding checks sizes before doing work: the compressed bytes first,
 * then inflation stops at {@link MAX_RECORD_BYTES}, then the nesting depth is checked before
 * JSON.parse, then the shape.
 */

/** Compressed payloads above this do not fit one UDP datagram with room for the DNS names. */
export const MAX_PAYLOAD_BYTES = 60_000
/**
 * Largest record JSON, in bytes, on both sides: `register` refuses a larger record and
 * inflating stops here, so a few KiB on the wire can never become megabytes in memory. A real
 * record is a few KiB, endpoint schemas included.
 */
export const MAX_RECORD_BYTES = 64 * 1024
/** Deepest JSON nesting accepted (objects and arrays), on both sides. */
export const MAX_JSON_DEPTH = 64
/** zlib hands output back in chunks this big, so it never runs more than one past the cap. */
export const INFLATE_CHUNK_BYTES = 4 * 1024
/** A TXT character-string holds at most 255 bytes. */
const TXT_CHUNK = 255
const FORMAT_VERSION = 1

/** Why a payload was not accepted. */
export type PayloadRefusal =
  | 'not-txt'
  | 'compressed-too-large'
  | 'not-deflate'
  | 'too-large'
  | 'too-deep'
  | 'not-json'
  | 'bad-shape'

/**
 * What decoding a payload did: the announcement, or why not. `inflated` is how many bytes zlib
 * handed the decoder. Past {@link MAX_RECORD_BYTES} zlib stops itself (`maxOutputLength`,
 * within one {@link INFLATE_CHUNK_BYTES} chunk) and hands back nothing, so a record too large
 * reports 0; the decoder refuses anything over the cap it is handed all the same.
 */
export type PayloadOutcome =
  | { announcement: Announcement; inflated: number }
  | { refused: PayloadRefusal; inflated: number }

/** Serialize a service record for the wire (JSON), as both sides count its size. */
function payloadJson(announcement: Announcement): string {
  const { name, version, metadata, endpoints } = announcement.service
  return JSON.stringify({
    v: FORMAT_VERSION,
    namespace: announcement.namespace,
    service: { name, version, metadata, endpoints },
    node: announcement.service.nodes[0],
  })
}

/**
 * The TXT strings of an announcement. Throws a 413 MicroError when its JSON is over
 * {@link MAX_RECORD_BYTES} or it cannot fit one datagram, and a 400 when it nests deeper than
 * peers accept.
 */
export function encodePayload(announcement: Announcement): Buffer[] {
  const name = announcement.service.name
  const json = Buffer.from(payloadJson(announcement), 'utf8')
  if (json.length > MAX_RECORD_BYTES) {
    throw payloadTooLarge(
      'micro.registry',
      'service %s: its mDNS record is %d bytes of JSON, more than the %d peers accept',
      name,
      json.length,
      MAX_RECORD_BYTES,
    )
  }
  if (jsonDepth(json) > MAX_JSON_DEPTH) {
    throw badRequest(
      'micro.registry',
      'service %s: its record nests deeper than %d levels (endpoint schemas?)',
      name,
      MAX_JSON_DEPTH,
    )
  }
  const bytes = deflateRawSync(json)
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw payloadTooLarge(
      'micro.registry',
      'service %s: its mDNS record is %d bytes compressed, more than the %d a datagram can carry',
      name,
      bytes.length,
      MAX_PAYLOAD_BYTES,
    )
  }
  const chunks: Buffer[] = []
  for (let offset = 0; offset < bytes.length; offset += TXT_CHUNK) {
    chunks.push(bytes.subarray(offset, offset + TXT_CHUNK))
  }
  return chunks
}

/** The compressed bytes of TXT data, or undefined when it is not a list of byte strings. */
export function payloadBytes(data: unknown): Buffer | undefined {
  const chunks = Array.isArray(data) ? data : [data]
  if (chunks.length === 0 || !chunks.every((c) => Buffer.isBuffer(c))) return undefined
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks as Buffer[])
}

/** Decode TXT data, bounded in memory and time whatever the sender put in it. */
export function decodePayloadChecked(data: unknown): PayloadOutcome {
  const bytes = payloadBytes(data)
  if (!bytes) return { refused: 'not-txt', inflated: 0 }
  if (bytes.length > MAX_PAYLOAD_BYTES) return { refused: 'compressed-too-large', inflated: 0 }
  let json: Buffer
  try {
    json = inflateRawSync(bytes, { maxOutputLength: MAX_RECORD_BYTES, chunkSize: INFLATE_CHUNK_BYTES })
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE'
    return { refused: tooLarge ? 'too-large' : 'not-deflate', inflated: 0 }
  }
  const inflated = json.length
  if (inflated > MAX_RECORD_BYTES) return { refused: 'too-large', inflated }
  if (jsonDepth(json) > MAX_JSON_DEPTH) return { refused: 'too-deep', inflated }
  let value: unknown
  try {
    value = JSON.parse(json.toString('utf8'))
  } catch {
    return { refused: 'not-json', inflated }
  }
  const announcement = announcementOf(value)
  return announcement ? { announcement, inflated } : { refused: 'bad-shape', inflated }
}

/** The announcement in TXT data, or undefined when it is not a valid payload of ours. */
export function decodePayload(data: unknown): Announcement | undefined {
  const outcome = decodePayloadChecked(data)
  return 'announcement' in outcome ? outcome.announcement : undefined
}

/**
 * The deepest nesting of objects and arrays in JSON text, found with one pass over the bytes
 * (brackets inside strings do not count). It stops counting past the limit.
 */
export function jsonDepth(json: Uint8Array): number {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const byte = json[i]
    if (inString) {
      if (byte === 0x5c)
        i++ // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false
    } else if (byte === 0x22) {
      inString = true
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > deepest) {
        deepest = depth
        if (deepest > MAX_JSON_DEPTH) return deepest
      }
    } else if (byte === 0x7d || byte === 0x5d) {
      depth--
    }
  }
  return deepest
}

function announcementOf(value: unknown): Announcement | undefined {
  if (!isObject(value) || value.v !== FORMAT_VERSION || typeof value.namespace !== 'string') return undefined
  const { service, node } = value
  if (!isObject(service)) return undefined
  if (typeof service.name !== 'string' || service.name === '' || typeof service.version !== 'string')
    return undefined
  if (
    !isStringMap(service.metadata) ||
    !Array.isArray(service.endpoints) ||
    !service.endpoints.every(isEndpoint)
  ) {
    return undefined
  }
  if (!isNode(node)) return undefined
  const record: ServiceRecord = {
    name: service.name,
    version: service.version,
    metadata: service.metadata,
    endpoints: service.endpoints,
    nodes: [{ id: node.id, address: node.address, metadata: node.metadata }],
  }
  // Copy through the record helpers so stray fields of the JSON are dropped.
  return { namespace: value.namespace, service: cloneService(record) }
}
