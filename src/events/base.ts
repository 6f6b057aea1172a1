import { createLogger, type Logger } from '../logger/logger.js'
import { StreamConsumer } from './consumer.js'
import type {
  ConsumeOptions,
  EventConsumer,
  EventRecord,
  Events,
  PublishOptions,
  ReadOptions,
  StoredEvent,
} from './events.js'
import { closedError } from './names.js'
import {
  type ConsumePlan,
  defaultNamespace,
  type PublishPlan,
  planConsume,
  planPublish,
  planRead,
  type ReadPlan,
} from './options.js'
import { type RawEvent, toStoredEvent } from './payload.js'
import type { DeliverySource } from './source.js'

/** Options every implementation takes. */
export interface EventsOptions {
  /** The namespace of calls that name none. Default `micro`. */
  namespace?: string
  /** Where consumers report trouble they recover from (default: JSON lines on stderr). */
  logger?: Logger
}

/**
 * What the implementations share: option checking and defaults, the consumer loop, the
 * list of consumers to end on close, and the 503 after close. An implementation supplies
 * storage (`append`, `readRaw`) and a delivery source per consumer.
 */
export abstract class BaseEvents implements Events {
  abstract readonly name: string
  protected readonly namespace: string
  protected readonly logger: Logger
  readonly #consumers = new Set<StreamConsumer<unknown>>()
  #closed = false

  constructor(options: EventsOptions) {
    this.namespace = defaultNamespace(options.namespace)
    this.logger = options.logger ?? createLogger()
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.#closed
  }

  async publish(topic: string, payload: unknown, options: PublishOptions = {}): Promise<EventRecord> {
    this.assertOpen()
    const plan = planPublish(topic, payload, options, this.namespace)
    const sequence = await this.append(plan)
    return {
      id: plan.id,
      topic: plan.topic,
      sequence,
      timestamp: new Date(plan.timestamp),
      metadata: plan.metadata,
    }
  }

  consume<T = unknown>(topic: string, options: ConsumeOptions = {}): EventConsumer<T> {
    this.assertOpen()
    const plan = planConsume(topic, options, this.namespace)
    const consumer = new StreamConsumer<T>(this.source(plan), plan, this.logger)
    const tracked = consumer as StreamConsumer<unknown>
    this.#consumers.add(tracked)
    consumer.closed.then(() => this.#consumers.delete(tracked))
    return consumer
  }

  async read<T = unknown>(topic: string, options: ReadOptions = {}): Promise<StoredEvent<T>[]> {
    this.assertOpen()
    const plan = planRead(topic, options, this.namespace)
    return (await this.readRaw(plan)).map((event) => toStoredEvent<T>(event))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const consumers = [...this.#consumers]
    for (const consumer of consumers) consumer.stop()
    await Promise.all(consumers.map((c) => c.closed))
    await this.release()
  }

  /**
   * The engine side of a consumer whose plan the caller checked and whose loop runs
   * elsewhere: the platform's Events service drives one per remote consumer, and the
   * consumer loop runs in the remote process (src/events/service.ts). The caller closes it;
   * `close()` of this instance does not.
   */
  remoteSource(plan: ConsumePlan): DeliverySource {
    this.assertOpen()
    return this.source(plan)
  }

  /** Throws the 503 every call gets after close(). */
  protected assertOpen(): void {
    if (this.#closed) throw closedError(this.name)
  }

  /** Store a planned event; resolves with its sequence number. */
  protected abstract append(plan: PublishPlan): Promise<number>
  /** The engine side of a new consumer. */
  protected abstract source(plan: ConsumePlan): DeliverySource
  /** Raw events for a read, in order. */
  protected abstract readRaw(plan: ReadPlan): Promise<RawEvent[]>
  /** Release connections, handles and timers (consumers are already closed). */
  protected abstract release(): Promise<void>
}
