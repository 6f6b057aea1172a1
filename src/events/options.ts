import type { Codec } from '../codec/codec.js'
import { badRequest } from '../errors/errors.js'
import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import { uuid } from '../util/ids.js'
import type { ConsumeOptions, EventMetadata, EventOffset, PublishOptions, ReadOptions } from './events.js'
import type { GroupLostError } from './loss.js'
import { checkName, checkTopic, EVENTS_ERROR_ID } from './names.js'
import { encodePayload, encodeWith } from './payload.js'

/** Default `ackWait`: Go Micro's 30 s. */
export const DEFAULT_ACK_WAIT = 30_000
/** Default `retryLimit`. */
export const DEFAULT_RETRY_LIMIT = 3
/** Default `maxInFlight`. */
export const DEFAULT_MAX_IN_FLIGHT = 100
/** Default `limit` of `read`. */
export const DEFAULT_READ_LIMIT = 100
/** Prefix of the groups made for consumers that name none. */
export const PRIVATE_GROUP_PREFIX = 'private-'

/** A publish, checked and encoded. */
export interface PublishPlan {
  namespace: string
  topic: string
  id: string
  timestamp: number
  metadata: EventMetadata
  contentType: string
  data: Uint8Array
}

/** A consume call, checked, with every default applied. */
export interface ConsumePlan {
  namespace: string
  topic: string
  group: string
  /** A group of one consumer, made for it and removed when it stops. */
  private: boolean
  offset: EventOffset | undefined
  ack: 'auto' | 'manual'
  ackWait: number
  /** Deliveries allowed: retryLimit + 1. */
  maxAttempts: number
  deadLetter: string | false
  maxInFlight: number
  signal: AbortSignal | undefined
  onLoss: ((error: GroupLostError) => void) | undefined
  codec: Codec | undefined
}

/** A read call, checked. */
export interface ReadPlan {
  namespace: string
  topic: string
  offset: number
  since: Date | undefined
  limit: number
}

/** Check and encode a publish; every mistake is a 400. */
export function planPublish(
  topic: string,
  payload: unknown,
  options: PublishOptions,
  defaultNamespace: string,
): PublishPlan {
  const timestamp = options.timestamp ?? new Date()
  if (!(timestamp instanceof Date) || Number.isNaN(timestamp.getTime()))
    throw badRequest(EVENTS_ERROR_ID, 'timestamp must be a valid Date')
  const metadata = checkMetadata(options.metadata)
  const { data, contentType } = options.codec
    ? encodeWith(options.codec, payload)
    : encodePayload(payload, options.contentType)
  return {
    namespace: checkName(options.namespace ?? defaultNamespace, 'namespace'),
    topic: checkTopic(topic),
    id: uuid(),
    timestamp: timestamp.getTime(),
    metadata,
    contentType,
    data,
  }
}

/** Check a consume call and apply the defaults; every mistake is a 400. */
export function planConsume(topic: string, options: ConsumeOptions, defaultNamespace: string): ConsumePlan {
  checkTopic(topic)
  const group = options.group === undefined ? undefined : checkName(options.group, 'group')
  const ackWait = options.ackWait ?? DEFAULT_ACK_WAIT
  if (!Number.isFinite(ackWait) || ackWait < 1)
    throw badRequest(EVENTS_ERROR_ID, 'ackWait must be a positive number of ms')
  const retryLimit = options.retryLimit ?? DEFAULT_RETRY_LIMIT
  if (!(retryLimit === Number.POSITIVE_INFINITY || (Number.isInteger(retryLimit) && retryLimit >= 0)))
    throw badRequest(EVENTS_ERROR_ID, 'retryLimit must be a whole number >= 0 or Infinity')
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
    throw badRequest(EVENTS_ERROR_ID, 'maxInFlight must be a whole number >= 1')
  if (options.onLoss !== undefined && typeof options.onLoss !== 'function')
    throw badRequest(EVENTS_ERROR_ID, 'onLoss must be a function')
  const ack = options.ack ?? 'auto'
  if (ack !== 'auto' && ack !== 'manual') throw badRequest(EVENTS_ERROR_ID, 'ack must be "auto" or "manual"')
  const deadLetter = options.deadLetter === undefined ? `${topic}.dead` : options.deadLetter
  if (deadLetter !== false) {
    checkTopic(deadLetter, 'deadLetter topic')
    if (deadLetter === topic) throw badRequest(EVENTS_ERROR_ID, 'deadLetter must be another topic')
  }
  return {
    namespace: checkName(options.namespace ?? defaultNamespace, 'namespace'),
    topic,
    group: group ?? `${PRIVATE_GROUP_PREFIX}${uuid()}`,
    private: group === undefined,
    offset: checkOffset(options.offset),
    ack,
    ackWait: Math.ceil(ackWait),
    maxAttempts: retryLimit + 1,
    deadLetter,
    maxInFlight,
    signal: options.signal,
    onLoss: options.onLoss,
    codec: options.codec,
  }
}

/** Check a read call; every mistake is a 400. */
export function planRead(topic: string, options: ReadOptions, defaultNamespace: string): ReadPlan {
  checkTopic(topic)
  const offset = options.offset ?? 0
  if (!Number.isInteger(offset) || offset < 0)
    throw badRequest(EVENTS_ERROR_ID, 'offset must be a sequence number (a whole number >= 0)')
  const since = options.since
  if (since !== undefined && (!(since instanceof Date) || Number.isNaN(since.getTime())))
    throw badRequest(EVENTS_ERROR_ID, 'since must be a valid Date')
  const limit = options.limit ?? DEFAULT_READ_LIMIT
  if (!Number.isInteger(limit) || limit < 1)
    throw badRequest(EVENTS_ERROR_ID, 'limit must be a whole number >= 1')
  return {
    namespace: checkName(options.namespace ?? defaultNamespace, 'namespace'),
    topic,
    offset,
    since,
    limit,
  }
}

/** The namespace an implementation uses when a call names none. */
export function defaultNamespace(namespace: string | undefined): string {
  return checkName(namespace ?? DEFAULT_NAMESPACE, 'namespace')
}

function checkOffset(offset: EventOffset | undefined): EventOffset | undefined {
  if (offset === undefined) return undefined
  if (offset instanceof Date) {
    if (Number.isNaN(offset.getTime())) throw badRequest(EVENTS_ERROR_ID, 'offset must be a valid Date')
    return offset
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw badRequest(EVENTS_ERROR_ID, 'offset must be a sequence number (a whole number >= 0) or a Date')
  return offset
}

function checkMetadata(metadata: EventMetadata | undefined): EventMetadata {
  if (metadata === undefined) return {}
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw badRequest(EVENTS_ERROR_ID, 'metadata must be an object of strings')
  const copy: EventMetadata = {}
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw badRequest(EVENTS_ERROR_ID, `metadata ${key} must be a string`)
    if (key === '__proto__') continue
    copy[key] = value
  }
  return copy
}
