import { badRequest, notFound } from '../errors/errors.js'
import type { NamespaceOption } from '../registry/registry.js'
import type { EventMetadata, EventRecord, Events } from './events.js'
import { checkTopic, EVENTS_ERROR_ID } from './names.js'
import { BYTES_TYPE } from './payload.js'
import { DEAD_LETTER_KEYS } from './source.js'

/** A topic as the engine holds it. */
export interface TopicInfo {
  topic: string
  /** Events the topic holds now (NATS with `maxAge` drops old ones; the others keep every one). */
  events: number
  /** The sequence of the last event (0 when none). Not a count: NATS numbers per namespace. */
  lastSequence: number
  /** When the last event was stored. */
  lastStored?: Date
}

/** A consumer group of a topic and how far behind it is. */
export interface GroupInfo {
  group: string
  /** The last sequence handed to the group. */
  position: number
  /** Delivered but not yet acknowledged. */
  pending: number
  /** Stored after `position`: not delivered yet. */
  lag: number
  /** Pending events already delivered more than once. */
  retrying: number
  /** A consumer's group of its own, removed when it stops. */
  private: boolean
}

/**
 * Looking into the streams of an Events engine, for operators and the dashboard: topics,
 * consumer groups with their backlog, and replaying dead letters. Nothing here consumes
 * or settles an event.
 */
export interface EventsInspector {
  /** Topics of a namespace (dead-letter topics too), sorted by name. */
  listTopics(options?: NamespaceOption): Promise<TopicInfo[]>
  /** Consumer groups of a topic, sorted by name (none for an unknown topic). */
  listGroups(topic: string, options?: NamespaceOption): Promise<GroupInfo[]>
  /**
   * Publish a dead letter again on the topic it died on, with its payload and its own
   * metadata (without the dead-letter keys, plus `replayed-from` and `replayed-id`). It gets
   * a new id (NATS would drop a republished id as a duplicate). The dead letter stays.
   * A 404 when there is no such event; a 400 when it is not a dead letter.
   */
  replayDeadLetter(deadTopic: string, sequence: number, options?: NamespaceOption): Promise<EventRecord>
}

/** The metadata key a replayed event carries: `<dead topic>#<sequence>`. */
export const REPLAYED_FROM = 'replayed-from'
/** The metadata key a replayed event carries: the id of the event that died. */
export const REPLAYED_ID = 'replayed-id'

/** The inspector of an Events instance, when its engine has one. */
export function inspectorOf(events: Events): EventsInspector | undefined {
  const candidate = events as Partial<EventsInspector>
  return typeof candidate.listTopics === 'function' &&
    typeof candidate.listGroups === 'function' &&
    typeof candidate.replayDeadLetter === 'function'
    ? (events as unknown as EventsInspector)
    : undefined
}

/** Replay through the Events interface alone (read the dead letter, publish it): shared by every engine. */
export async function replayThrough(
  events: Pick<Events, 'read' | 'publish'>,
  deadTopic: string,
  sequence: number,
  options: NamespaceOption = {},
): Promise<EventRecord> {
  checkTopic(deadTopic, 'dead-letter topic')
  if (!Number.isSafeInteger(sequence) || sequence < 1)
    throw badRequest(EVENTS_ERROR_ID, 'sequence must be a positive integer')
  const [event] = await events.read(deadTopic, { ...options, offset: sequence, limit: 1 })
  if (!event || event.sequence !== sequence)
    throw notFound(EVENTS_ERROR_ID, `no event ${sequence} on ${deadTopic}`)
  const origin = event.metadata[DEAD_LETTER_KEYS.topic]
  if (!origin) throw badRequest(EVENTS_ERROR_ID, `event ${sequence} on ${deadTopic} is not a dead letter`)
  const metadata: EventMetadata = {}
  const deadKeys = new Set<string>(Object.values(DEAD_LETTER_KEYS))
  for (const [key, value] of Object.entries(event.metadata)) if (!deadKeys.has(key)) metadata[key] = value
  metadata[REPLAYED_FROM] = `${deadTopic}#${sequence}`
  metadata[REPLAYED_ID] = event.id
  // An undecodable payload was kept as bytes; it goes back with its first content type.
  const contentType = event.metadata[DEAD_LETTER_KEYS.contentType] ?? event.contentType
  const payload = event.decodeError !== undefined || contentType === BYTES_TYPE ? event.raw : event.payload
  return events.publish(origin, payload, {
    ...options,
    metadata,
    timestamp: event.timestamp,
    ...(payload instanceof Uint8Array ? { contentType } : {}),
  })
}
