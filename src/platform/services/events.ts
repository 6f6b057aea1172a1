import { MicroError, newError } from '../../errors/errors.js'
import { BaseEvents } from '../../events/base.js'
import type { EventOffset, Events as EventsEngine } from '../../events/events.js'
import type { GroupInfo, TopicInfo } from '../../events/inspector.js'
import { type EventsInspector, inspectorOf } from '../../events/inspector.js'
import { type ConsumePlan, planConsume } from '../../events/options.js'
import type { Delivery, DeliverySource } from '../../events/source.js'
import { DEFAULT_NAMESPACE } from '../../registry/registry.js'
import type { Context } from '../../server/context.js'
import { AsyncQueue } from '../../util/async-queue.js'
import {
  type ConsumeInput,
  type ConsumeOutput,
  toWireEvent,
  toWireRecord,
  type WireEvent,
  type WireEventRecord,
} from './events-wire.js'
import {
  decodeBytes,
  type Fields,
  fields,
  flag,
  invalid,
  namespaceOf,
  optionalNumber,
  optionalString,
  optionalStringMap,
  optionalTime,
  PLATFORM_ERROR_ID,
  requiredString,
  retryLimitOf,
  type StreamHandlerOptions,
  streamSignal,
} from './wire.js'

/** A topic on the wire: its last store time as ISO text. */
export type WireTopicInfo = Omit<TopicInfo, 'lastStored'> & { lastStored?: string }

/**
 * Durable events as a service: `Events.Publish`, `Events.Read`, and `Events.Consume`, a
 * bidirectional stream that drives one consumer of the server's engine for a consumer loop
 * running in the caller (the `service` events engine): the caller asks for deliveries
 * (`pull`), and settles each one (`ack`, `nack`, `release`, `deadLetter`) on the same
 * stream; `Events.Topics`, `Events.Groups` and `Events.ReplayDeadLetter` inspect the
 * engine (the dashboard's view of a remote platform). Every request names its `namespace` (default `micro`); the engine keeps
 * namespaces apart.
 */
export class Events {
  readonly #events: EventsEngine
  readonly #closing: AbortSignal | undefined

  constructor(events: EventsEngine, options: StreamHandlerOptions = {}) {
    this.#events = events
    this.#closing = options.closing
  }

  /**
   * `{namespace?, topic, payload | data, contentType?, metadata?, timestamp?}` → the
   * record. `payload` is any JSON value; `data` is base64 bytes stored as they are, with
   * `contentType` (default `application/octet-stream`).
   */
  async Publish(request: unknown): Promise<WireEventRecord> {
    const req = fields(request, 'Events.Publish')
    const topic = requiredString(req, 'topic')
    const payload = req.data !== undefined ? decodeBytes(req.data, 'data') : req.payload
    const record = await this.#events.publish(topic, payload, {
      namespace: namespaceOf(req),
      metadata: optionalStringMap(req, 'metadata'),
      timestamp: optionalTime(req, 'timestamp'),
      contentType: optionalString(req, 'contentType'),
    })
    return toWireRecord(record)
  }

  /** `{namespace?, topic, offset?, since?, limit?}` → `{events}` in order, with `payload` decoded when JSON. */
  async Read(request: unknown): Promise<{ events: WireEvent[] }> {
    const req = fields(request, 'Events.Read')
    const stored = await this.#events.read(requiredString(req, 'topic'), {
      namespace: namespaceOf(req),
      offset: optionalNumber(req, 'offset'),
      since: optionalTime(req, 'since'),
      limit: optionalNumber(req, 'limit'),
    })
    return {
      events: stored.map((event) =>
        toWireEvent({ ...event, timestamp: event.timestamp.getTime(), data: event.raw }, true),
      ),
    }
  }

  /** `{namespace?}` → `{topics}`: every topic of the namespace, dead-letter topics too (the engine's inspector). */
  async Topics(request: unknown): Promise<{ topics: WireTopicInfo[] }> {
    const req = fields(request ?? {}, 'Events.Topics')
    const topics = await this.#inspector('Events.Topics').listTopics({ namespace: namespaceOf(req) })
    return {
      topics: topics.map(({ lastStored, ...topic }) => ({
        ...topic,
        ...(lastStored ? { lastStored: lastStored.toISOString() } : {}),
      })),
    }
  }

  /** `{namespace?, topic}` → `{groups}`: the topic's consumer groups with position, pending, lag and retrying. */
  async Groups(request: unknown): Promise<{ groups: GroupInfo[] }> {
    const req = fields(request, 'Events.Groups')
    const groups = await this.#inspector('Events.Groups').listGroups(requiredString(req, 'topic'), {
      namespace: namespaceOf(req),
    })
    return { groups }
  }

  /**
   * `{namespace?, topic, sequence}` → the record: publish dead letter `sequence` of dead-letter
   * topic `topic` again on the topic it died on (a 404 when there is none, a 400 when it
   * is not a dead letter).
   */
  async ReplayDeadLetter(request: unknown): Promise<WireEventRecord> {
    const req = fields(request, 'Events.ReplayDeadLetter')
    const sequence = optionalNumber(req, 'sequence')
    if (sequence === undefined) throw invalid('Events.ReplayDeadLetter needs a sequence')
    const record = await this.#inspector('Events.ReplayDeadLetter').replayDeadLetter(
      requiredString(req, 'topic'),
      sequence,
      { namespace: namespaceOf(req) },
    )
    return toWireRecord(record)
  }

  #inspector(endpoint: string): EventsInspector {
    const inspector = inspectorOf(this.#events)
    if (inspector === undefined) {
      throw newError(
        PLATFORM_ERROR_ID,
        `${endpoint}: the server's ${this.#events.name} events engine cannot be inspected`,
        501,
      )
    }
    return inspector
  }

  /**
   * The first message is the consume request `{namespace?, topic, group, private?, offset?,
   * ackWait?, deadLetter?}` (`offset`: a sequence number or an ISO time); the stream answers
   * `{started, overlap}` once the group exists. See {@link ConsumeInput} and
   * {@link ConsumeOutput} for the rest. A half-close or cancel ends the consumer; deliveries
   * not settled by then come back after `ackWait`.
   */
  async *Consume(input: AsyncIterable<unknown>, ctx: Context): AsyncGenerator<ConsumeOutput> {
    const iterator = input[Symbol.asyncIterator]()
    const first = await iterator.next()
    if (first.done) throw invalid('Events.Consume needs a first message: the consume request')
    const out = new AsyncQueue<ConsumeOutput>()
    const plan = consumePlan(fields(first.value, 'Events.Consume'), (error) =>
      out.push({ loss: error.loss, engine: this.#events.name }),
    )
    const engine = this.#events
    if (!(engine instanceof BaseEvents))
      throw newError(PLATFORM_ERROR_ID, `the ${engine.name} events engine cannot serve remote consumers`, 501)
    const session = new ConsumeSession(engine.remoteSource(plan), out, plan.maxInFlight)
    try {
      await session.source.start()
      out.push({ started: true, overlap: session.source.overlap })
      void session.serve(iterator, streamSignal(ctx, this.#closing))
      yield* out
    } finally {
      await session.close()
    }
  }
}

/** The most events one remote consumer may hold unsettled: what a pull may ask for. */
const MAX_IN_FLIGHT = 10_000

/** The consume request as the engine's plan. Manual acks: the caller's loop settles everything. */
function consumePlan(req: Fields, onLoss: ConsumePlan['onLoss']): ConsumePlan {
  const topic = requiredString(req, 'topic')
  const deadLetter = req.deadLetter === false ? false : optionalString(req, 'deadLetter')
  const offset = req.offset
  let start: EventOffset | undefined
  if (typeof offset === 'string') start = optionalTime(req, 'offset')
  else start = optionalNumber(req, 'offset')
  const plan = planConsume(
    topic,
    {
      namespace: namespaceOf(req),
      group: optionalString(req, 'group'),
      offset: start,
      ack: 'manual',
      ackWait: optionalNumber(req, 'ackWait'),
      retryLimit: retryLimitOf(req),
      deadLetter,
      maxInFlight: optionalNumber(req, 'maxInFlight'),
      onLoss,
    },
    DEFAULT_NAMESPACE,
  )
  if (plan.maxInFlight > MAX_IN_FLIGHT)
    throw invalid(`maxInFlight must be at most ${MAX_IN_FLIGHT} on the platform`)
  // A private group is the caller's own (named by it, so a reconnect finds it again) and is
  // removed when the consumer stops.
  if (flag(req, 'private')) plan.private = true
  return plan
}

/** One remote consumer: its pulls in progress and the deliveries it has not settled. */
class ConsumeSession {
  readonly source: DeliverySource
  readonly #out: AsyncQueue<ConsumeOutput>
  readonly #stop = new AbortController()
  readonly #pulls = new Map<number, AbortController>()
  readonly #pulling = new Set<Promise<void>>()
  readonly #deliveries = new Map<number, Delivery>()
  readonly #settling = new Set<Promise<void>>()
  #tag = 0
  #closing: Promise<void> | undefined

  readonly #maxPull: number

  constructor(source: DeliverySource, out: AsyncQueue<ConsumeOutput>, maxPull: number) {
    this.source = source
    this.#out = out
    this.#maxPull = maxPull
  }

  /** Read the caller's messages until it half-closes, cancels or goes away. */
  async serve(iterator: AsyncIterator<unknown>, signal: AbortSignal): Promise<void> {
    const end = () => this.#out.end()
    if (signal.aborted) end()
    signal.addEventListener('abort', end, { once: true })
    try {
      for (;;) {
        const next = await iterator.next()
        if (next.done) break
        this.#handle(next.value as ConsumeInput)
      }
      // A clean stop: what the caller gave back must be settled before the source closes.
      await Promise.all(this.#settling)
    } catch {
      // canceled or lost: deliveries not settled come back after ackWait
    } finally {
      signal.removeEventListener('abort', end)
      end()
    }
  }

  #handle(message: ConsumeInput): void {
    if (typeof message !== 'object' || message === null) return
    if ('pull' in message) this.#pull(message.pull, message.max)
    else if ('abort' in message) this.#pulls.get(message.abort)?.abort()
    else if ('settle' in message) this.#settle(message)
  }

  #pull(id: number, max: number): void {
    if (!Number.isInteger(max) || max < 1 || this.#stop.signal.aborted) {
      this.#out.push({ pull: id, ended: true })
      return
    }
    const controller = new AbortController()
    this.#pulls.set(id, controller)
    const accept = (delivery: Delivery) => {
      const tag = ++this.#tag
      this.#deliveries.set(tag, delivery)
      this.#out.push({ pull: id, tag, attempt: delivery.attempt, event: toWireEvent(delivery.event) })
    }
    let pulling: Promise<void>
    try {
      // The caller's loop never asks for more than it may hold; a caller that does gets that much.
      const asked = Math.min(max, this.#maxPull)
      pulling = this.source.pull(asked, AbortSignal.any([controller.signal, this.#stop.signal]), accept)
    } catch (error) {
      pulling = Promise.reject(error)
    }
    const done = pulling.then(
      () => this.#out.push({ pull: id, ended: true }),
      (error: unknown) => this.#out.push({ pull: id, ended: true, error: errorOf(error) }),
    )
    const tracked = done.finally(() => {
      this.#pulls.delete(id)
      this.#pulling.delete(tracked)
    })
    this.#pulling.add(tracked)
  }

  #settle(message: Extract<ConsumeInput, { settle: unknown }>): void {
    const { tag } = message
    const delivery = this.#deliveries.get(tag)
    if (!delivery) {
      this.#out.push({ tag, error: errorOf(invalid(`no delivery ${tag} to settle on this stream`)) })
      return
    }
    this.#deliveries.delete(tag)
    let settling: Promise<void>
    try {
      if (message.settle === 'ack') settling = delivery.ack()
      else if (message.settle === 'nack') settling = delivery.nack()
      else if (message.settle === 'release') settling = delivery.release()
      else if (message.settle === 'deadLetter')
        settling = delivery.deadLetter(
          String(message.reason ?? 'dead-lettered'),
          message.undecodable === true,
        )
      else throw invalid(`unknown settle ${String(message.settle)}`)
    } catch (error) {
      settling = Promise.reject(error)
    }
    const done = settling.then(
      () => this.#out.push({ tag, settled: true }),
      (error: unknown) => this.#out.push({ tag, error: errorOf(error) }),
    )
    const tracked = done.finally(() => this.#settling.delete(tracked))
    this.#settling.add(tracked)
  }

  /** End the pulls, wait for settlements in progress, and close the engine side. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort()
      this.#out.end()
      await Promise.all(this.#pulling)
      await Promise.all(this.#settling)
      this.#deliveries.clear()
      await this.source.close().catch(() => {})
    })()
    return this.#closing
  }
}

function errorOf(error: unknown) {
  return MicroError.from(error, PLATFORM_ERROR_ID).toJSON()
}
