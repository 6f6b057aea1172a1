import { deflateRawSync, inflateRawSync } from 'node:zlib'
import type { Answer, Packet } from 'dns-packet'
import { payloadTooLarge } from '../errors/errors.js'
import {
  ANY_TYPE_NAME,
  inNamespace,
  instanceName,
  isInstanceName,
  namespaceTypeName,
  srvData,
} from './mdns-names.js'
import { cloneService, isEndpoint, isNode, isObject, isStringMap } from './records.js'
import type { NodeRecord, ServiceRecord } from './registry.js'

/** One node of one service version in one namespace: what one mDNS response carries. */
export interface Announcement {
  namespace: string
  /** The service version with exactly one node. */
  service: ServiceRecord
}

/** An announcement read from a packet, with its record TTL in seconds (0 = goodbye). */
export interface ReceivedAnnouncement {
  announcement: Announcement
  ttl: number
}

/** Compressed payloads above this do not fit one UDP datagram with room for the DNS names. */
export const MAX_PAYLOAD_BYTES = 60_000
/** Inflating stops here, so a small packet cannot expand into a memory bomb. */
const MAX_INFLATED_BYTES = 4 * 1024 * 1024
/** A TXT character-string holds at most 255 bytes. */
const TXT_CHUNK = 255
const FORMAT_VERSION = 1

/** The node an announcement is about. */
export function announcedNode(announcement: Announcement): NodeRecord {
  return announcement.service.nodes[0] as NodeRecord
}

/** A key unique per namespace, service, version and node. */
export function announcementKey(announcement: Announcement): string {
  const { namespace, service } = announcement
  return `${namespace}\0${service.name}\0${service.version}\0${announcedNode(announcement).id}`
}

/**
 * The TXT strings of an announcement: the JSON
 * `{v, namespace, service: {name, version, metadata, endpoints}, node}`, deflated (raw) and
 * cut into 255-byte chunks. Throws a 413 MicroError when it cannot fit one datagram.
 */
export function encodePayload(announcement: Announcement): Buffer[] {
  const { name, version, metadata, endpoints } = announcement.service
  const json = JSON.stringify({
    v: FORMAT_VERSION,
    namespace: announcement.namespace,
    service: { name, version, metadata, endpoints },
    node: announcedNode(announcement),
  })
  const bytes = deflateRawSync(Buffer.from(json, 'utf8'))
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

/** The records announcing (or, with ttl 0, withdrawing) one node. */
export function announcementAnswers(announcement: Announcement, payload: Buffer[], ttl: number): Answer[] {
  const { namespace, service } = announcement
  const node = announcedNode(announcement)
  const instance = instanceName(namespace, service.name, service.version, node.id)
  return [
    { type: 'PTR', name: namespaceTypeName(namespace), ttl, data: instance },
    { type: 'PTR', name: ANY_TYPE_NAME, ttl, data: instance },
    { type: 'SRV', name: instance, ttl, data: srvData(node.address) },
    { type: 'TXT', name: instance, ttl, data: payload },
  ]
}

/** Every valid announcement in a response packet; anything malformed is skipped. */
export function readAnnouncements(packet: Packet): ReceivedAnnouncement[] {
  const found: ReceivedAnnouncement[] = []
  for (const answer of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
    if (answer.type !== 'TXT' || typeof answer.name !== 'string' || !isInstanceName(answer.name)) continue
    if (typeof answer.ttl !== 'number') continue
    const announcement = decodePayload(answer.data)
    // The name must agree with the payload, or one namespace could be answered with another's nodes.
    if (announcement && inNamespace(answer.name, announcement.namespace)) {
      found.push({ announcement, ttl: answer.ttl })
    }
  }
  return found
}

/** The announcement in TXT data, or undefined when it is not a valid payload of ours. */
export function decodePayload(data: unknown): Announcement | undefined {
  const chunks = Array.isArray(data) ? data : [data]
  if (chunks.length === 0 || !chunks.every((c) => Buffer.isBuffer(c))) return undefined
  let value: unknown
  try {
    const json = inflateRawSync(Buffer.concat(chunks), { maxOutputLength: MAX_INFLATED_BYTES })
    value = JSON.parse(json.toString('utf8'))
  } catch {
    return undefined
  }
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
