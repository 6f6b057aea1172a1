/**
 * Durable event streams: the Events interface, its implementations (file, the embedded
 * default over LMDB; memory; NATS JetStream; Redis Streams) and `createEvents` to pick one
 * by name (`MICRO_EVENTS`, `MICRO_EVENTS_ADDRESS`).
 *
 * The conformance suite every implementation passes lives in `./conformance.js`; it is not
 * exported here because it pulls in `node:test`.
 * @module micro-ts/events
 */
export type { EventsOptions } from './base.js'
export type {
  ConsumeOptions,
  EventConsumer,
  EventMetadata,
  EventOffset,
  EventRecord,
  Events,
  PublishOptions,
  ReadOptions,
  ReceivedEvent,
  StoredEvent,
} from './events.js'
export { defaultEventsDirectory, FileEvents, type FileEventsOptions } from './file.js'
export { createEvents, EVENTS_NAMES, eventsFromEnv } from './from-env.js'
export {
  type EventsInspector,
  type GroupInfo,
  inspectorOf,
  REPLAYED_FROM,
  REPLAYED_ID,
  replayThrough,
  type TopicInfo,
} from './inspector.js'
export { type GroupLoss, GroupLostError } from './loss.js'
export { MemoryEvents, type MemoryEventsOptions } from './memory.js'
export { NatsEvents, type NatsEventsOptions } from './nats.js'
export {
  DEFAULT_ACK_WAIT,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_READ_LIMIT,
  DEFAULT_RETRY_LIMIT,
} from './options.js'
export { BYTES_TYPE, JSON_TYPE } from './payload.js'
export { RedisEvents, type RedisEventsOptions } from './redis.js'
export { ServiceEvents, type ServiceEventsOptions } from './service.js'
export { DEAD_LETTER_KEYS } from './source.js'
