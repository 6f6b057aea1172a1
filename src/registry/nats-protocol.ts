import { createHash } from 'node:crypto'
import type { Announcement } from './mdns-records.js'
import { cloneService, isEndpoint, isNode, isObject, isStringMap } from './records.js'
import { ANY_NAMESPACE, type ServiceRecord } from './registry.js'

/**
 * The NATS registry's messages, JSON on core NATS subjects under a prefix (`micro.registry`):
 *
 * - `<prefix>.<ns>.announce`: `{v, from, namespace, ttl, service}`. A node's owner publishes it
 *   on register and on every renewal; `ttl` is the ms it stays valid, 0 withdraws it.
 * - `<prefix>.<ns>.query` (`<prefix>._any.query` for every namespace): request
 *   `{v, from, namespace, service?}`; every instance holding nodes of the namespace answers
 *   (in several messages if need be) `{v, from, items: [{namespace, ttl, service}]}`.
 *
 * `<ns>` is the namespace when it is `[A-Za-z0-9-]{1,64}`, else `_h` and 32 hex digits of its
 * SHA-256; the exact namespace travels in the payload and must agree with the subject.
 */
export const FORMAT_VERSION = 1
const PLAIN_NAMESPACE = /^[A-Za-z0-9-]{1,64}$/

/** What an announcement or an answer item carries. */
export interface NatsAnnouncement {
  namespace: string
  /** ms the nodes stay valid from receipt; 0 withdraws them. */
  ttl: number
  service: ServiceRecord
}

export interface NatsQuery {
  from: string
  namespace: string
  service: string | undefined
}

/** The subject token of a namespace. */
export function namespaceToken(namespace: string): string {
  if (PLAIN_NAMESPACE.test(namespace)) return namespace
  return `_h${createHash('sha256').update(namespace).digest('hex').slice(0, 32)}`
}

export function announceSubject(prefix: string, namespace: string): string {
  return `${prefix}.${namespaceToken(namespace)}.announce`
}

export function querySubject(prefix: string, namespace: string): string {
  return namespace === ANY_NAMESPACE ? `${prefix}._any.query` : `${prefix}.${namespaceToken(namespace)}.query`
}

/** Every namespace's announcements. */
export function announceWildcard(prefix: string): string {
  return `${prefix}.*.announce`
}

export function encodeAnnouncement(from: string, announcement: NatsAnnouncement): Uint8Array {
  return Buffer.from(JSON.stringify({ v: FORMAT_VERSION, from, ...announcement }))
}

export function encodeQuery(query: NatsQuery): Uint8Array {
  return Buffer.from(JSON.stringify({ v: FORMAT_VERSION, ...query }))
}

/**
 * One answer item as JSON, from the JSON of its service record (which a registry can encode
 * once per node and reuse for every query: only the TTL changes).
 */
export function answerItemJson(namespace: string, ttl: number, serviceJson: string): string {
  return `{"namespace":${JSON.stringify(namespace)},"ttl":${ttl},"service":${serviceJson}}`
}

/**
 * Answers to a query, each under `maxBytes`: items (JSON, see {@link answerItemJson}) are
 * packed greedily. An item too large on its own still goes alone (its announcement was under
 * the limit when it was registered).
 */
export function encodeAnswers(from: string, items: string[], maxBytes: number): Uint8Array[] {
  const head = `{"v":${FORMAT_VERSION},"from":${JSON.stringify(from)},"items":[`
  const answers: Uint8Array[] = []
  let parts: string[] = []
  let size = head.length + 2
  for (const json of items) {
    const bytes = Buffer.byteLength(json) + 1
    if (parts.length > 0 && size + bytes > maxBytes) {
      answers.push(Buffer.from(`${head}${parts.join(',')}]}`))
      parts = []
      size = head.length + 2
    }
    parts.push(json)
    size += bytes
  }
  answers.push(Buffer.from(`${head}${parts.join(',')}]}`))
  return answers
}

/** A valid announcement published by someone else, or undefined. */
export function readAnnouncement(
  bytes: Uint8Array,
): { from: string; announcement: NatsAnnouncement } | undefined {
  const value = parse(bytes)
  if (!value || typeof value.from !== 'string') return undefined
  const announcement = readItem(value)
  return announcement && { from: value.from, announcement }
}

export function readQuery(bytes: Uint8Array): NatsQuery | undefined {
  const value = parse(bytes)
  if (!value || typeof value.from !== 'string' || typeof value.namespace !== 'string') return undefined
  if (value.service !== undefined && typeof value.service !== 'string') return undefined
  return { from: value.from, namespace: value.namespace, service: value.service }
}

/** The valid items of an answer (invalid ones are skipped), with who sent it. */
export function readAnswer(bytes: Uint8Array): { from: string; items: NatsAnnouncement[] } | undefined {
  const value = parse(bytes)
  if (!value || typeof value.from !== 'string' || !Array.isArray(value.items)) return undefined
  const items: NatsAnnouncement[] = []
  for (const item of value.items) {
    const read = isObject(item) ? readItem(item) : undefined
    if (read) items.push(read)
  }
  return { from: value.from, items }
}

/** One announcement per node, as the peer cache keeps them. */
export function perNode(announcement: NatsAnnouncement): Announcement[] {
  return announcement.service.nodes.map((node) => ({
    namespace: announcement.namespace,
    service: cloneService(announcement.service, [node]),
  }))
}

function parse(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'))
    return isObject(value) && value.v === FORMAT_VERSION ? value : undefined
  } catch {
    return undefined
  }
}

function readItem(value: Record<string, unknown>): NatsAnnouncement | undefined {
  const { namespace, ttl, service } = value
  if (typeof namespace !== 'string' || namespace === ANY_NAMESPACE) return undefined
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) return undefined
  const record = readService(service)
  return record && { namespace, ttl, service: record }
}

function readService(value: unknown): ServiceRecord | undefined {
  if (!isObject(value) || typeof value.name !== 'string' || value.name === '') return undefined
  if (typeof value.version !== 'string' || !isStringMap(value.metadata)) return undefined
  if (!Array.isArray(value.endpoints) || !value.endpoints.every(isEndpoint)) return undefined
  if (!Array.isArray(value.nodes) || !value.nodes.every(isNode)) return undefined
  // Copy through the record helpers so stray fields of the JSON are dropped.
  return cloneService({
    name: value.name,
    version: value.version,
    metadata: value.metadata,
    endpoints: value.endpoints,
    nodes: value.nodes,
  })
}
