import { MicroError } from '../../errors/errors.js'
import type {
  ConsumeOptions,
  EventConsumer,
  EventRecord,
  Events,
  PublishOptions,
  ReadOptions,
  ReceivedEvent,
  StoredEvent,
} from '../../events/events.js'
import { listOf, type PlatformClient } from './platform-client.js'

/** An event as it crosses the wire as JSON: the timestamp as ISO text, the payload as JSON. */
interface WireEvent {
  id: string
  topic: string
  sequence: number
  timestamp: string
  metadata?: Record<string, string>
  contentType?: string
  payload?: unknown
  attempt?: number
}

/**
 * The platform's durable events as {@link Events}, through its `Events` endpoints:
 *
 * - `Events.Publish {topic, payload, metadata?, namespace}` answers the event record
 * - `Events.Read {topic, namespace, offset?, since? (ISO), limit?}` answers `{events}`
 * - `Events.Consume` streams: the first message is `{topic, namespace, group?, offset?
 *   (sequence or ISO time), ack: 'auto'|'manual'}`, then `{ack: id}` or `{nack: id, reason?}`
 *   per event when acks are manual; the replies are the events.
 *
 * `close()` closes `platform` (the events own it).
 */
export function platformEvents(platform: PlatformClient): Events {
  return {
    name: 'platform',
    async publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<EventRecord> {
      const reply = await platform.call<WireEvent>('Events.Publish', {
        topic,
        payload,
        metadata: options.metadata,
        namespace: options.namespace,
      })
      return record(reply)
    },
    async read<T>(topic: string, options: ReadOptions = {}): Promise<StoredEvent<T>[]> {
      const reply = await platform.call('Events.Read', {
        topic,
        namespace: options.namespace,
        offset: options.offset,
        since: options.since?.toISOString(),
        limit: options.limit,
      })
      return listOf<WireEvent>(reply, 'events').map((e) => stored<T>(e))
    },
    consume<T>(topic: string, options: ConsumeOptions = {}): EventConsumer<T> {
      return consume<T>(platform, topic, options)
    },
    close: () => platform.close(),
  }
}

function consume<T>(platform: PlatformClient, topic: string, options: ConsumeOptions): EventConsumer<T> {
  const stream = platform.stream('Events.Consume')
  const offset = options.offset instanceof Date ? options.offset.toISOString() : options.offset
  const manual = options.ack === 'manual'
  const ready = stream.send({
    topic,
    namespace: options.namespace,
    group: options.group,
    offset,
    ack: manual ? 'manual' : 'auto',
  })
  ready.catch(() => {})
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    stream.cancel('consumer stopped')
  }
  if (options.signal?.aborted) stop()
  options.signal?.addEventListener('abort', stop, { once: true })
  async function* events(): AsyncGenerator<ReceivedEvent<T>> {
    try {
      for await (const message of stream) {
        const event = stored<T>(message as WireEvent)
        const id = event.id
        yield {
          ...event,
          attempt: (message as WireEvent).attempt ?? 1,
          ack: async () => {
            if (manual) await stream.send({ ack: id })
          },
          nack: async (reason?: string) => {
            if (manual) await stream.send({ nack: id, reason })
          },
        }
      }
    } catch (error) {
      // Stopping cancels the stream; that ends the iteration rather than failing it.
      if (!(stopped && error instanceof MicroError)) throw error
    } finally {
      options.signal?.removeEventListener('abort', stop)
      stop()
    }
  }
  return Object.assign(events(), { ready, stop })
}

function record(event: WireEvent): EventRecord {
  return {
    id: event.id,
    topic: event.topic,
    sequence: event.sequence,
    timestamp: new Date(event.timestamp),
    metadata: event.metadata ?? {},
  }
}

function stored<T>(event: WireEvent): StoredEvent<T> {
  return {
    ...record(event),
    contentType: event.contentType ?? 'application/json',
    payload: event.payload as T,
    raw: Buffer.from(JSON.stringify(event.payload ?? null)),
  }
}
