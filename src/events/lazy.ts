import { newError } from '../errors/errors.js'
import type { NamespaceOption } from '../registry/registry.js'
import { LazyValue } from '../util/lazy-value.js'
import type { EventsOptions } from './base.js'
import { EVENTS_ENGINES } from './engine-names.js'
import type {
  ConsumeOptions,
  EventConsumer,
  EventRecord,
  Events,
  PublishOptions,
  ReadOptions,
  ReceivedEvent,
  StoredEvent,
} from './events.js'
import { type EventsInspector, type GroupInfo, inspectorOf, type TopicInfo } from './inspector.js'
import { EVENTS_ERROR_ID } from './names.js'

/**
 * The events `MICRO_EVENTS` names, as `eventsFromEnv` makes them, but with the engine's
 * module imported on the first call: what a service carries, so one that never publishes
 * or consumes loads none. An unknown engine is refused now; the engine's own complaints (a
 * bad address) come with the first call.
 */
export function lazyEventsFromEnv(env: NodeJS.ProcessEnv = process.env, options: EventsOptions = {}): Events {
  const engine = EVENTS_ENGINES.fromEnv(env, 'MICRO_EVENTS')
  return new LazyEvents(engine, async () => (await import('./from-env.js')).eventsFromEnv(env, options))
}

/**
 * {@link Events} whose implementation is loaded on the first call; its inspector is the
 * loaded engine's (every built-in engine has one).
 */
export class LazyEvents implements Events, EventsInspector {
  readonly name: string
  readonly #events: LazyValue<Events>

  constructor(name: string, load: () => Promise<Events>) {
    this.name = name
    this.#events = new LazyValue(load)
  }

  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<EventRecord> {
    const events = this.#events.now
    return events
      ? events.publish(topic, payload, options)
      : this.#events.get().then((e) => e.publish(topic, payload, options))
  }

  consume<T = unknown>(topic: string, options?: ConsumeOptions): EventConsumer<T> {
    const events = this.#events.now
    if (events) return events.consume<T>(topic, options)
    return pendingConsumer(this.#events.get().then((e) => e.consume<T>(topic, options)))
  }

  async read<T = unknown>(topic: string, options?: ReadOptions): Promise<StoredEvent<T>[]> {
    return (this.#events.now ?? (await this.#events.get())).read<T>(topic, options)
  }

  /** The loaded engine's topics. */
  async listTopics(options?: NamespaceOption): Promise<TopicInfo[]> {
    return (await this.#inspector()).listTopics(options)
  }

  /** The loaded engine's consumer groups of `topic`. */
  async listGroups(topic: string, options?: NamespaceOption): Promise<GroupInfo[]> {
    return (await this.#inspector()).listGroups(topic, options)
  }

  /** Replay a dead letter through the loaded engine. */
  async replayDeadLetter(
    deadTopic: string,
    sequence: number,
    options?: NamespaceOption,
  ): Promise<EventRecord> {
    return (await this.#inspector()).replayDeadLetter(deadTopic, sequence, options)
  }

  close(): Promise<void> {
    return this.#events.close()
  }

  async #inspector(): Promise<EventsInspector> {
    const events = this.#events.now ?? (await this.#events.get())
    const inspector = inspectorOf(events)
    if (inspector === undefined)
      throw newError(EVENTS_ERROR_ID, `${events.name} events cannot be inspected`, 501)
    return inspector
  }
}

/**
 * A consumer asked for while the engine loads: `ready`, `stop` and the iteration go to the
 * real one once it exists. A load that fails ends the iteration with the error (and
 * rejects `ready`, which nobody has to look at, as with the engines' consumers).
 */
function pendingConsumer<T>(consumer: Promise<EventConsumer<T>>): EventConsumer<T> {
  const ready = consumer.then((c) => c.ready)
  ready.catch(() => {})
  return {
    ready,
    stop() {
      consumer.then((c) => c.stop()).catch(() => {})
    },
    [Symbol.asyncIterator](): AsyncIterator<ReceivedEvent<T>> {
      let inner: AsyncIterator<ReceivedEvent<T>> | undefined
      const start = async () => {
        inner ??= (await consumer)[Symbol.asyncIterator]()
        return inner
      }
      return {
        next: () => (inner ? inner.next() : start().then((it) => it.next())),
        return: async (value?: unknown) => {
          const it = await start()
          return it.return ? it.return(value) : { done: true, value: undefined }
        },
      }
    },
  }
}
