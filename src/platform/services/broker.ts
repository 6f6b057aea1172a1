import {
  type Broker as BrokerEngine,
  DEAD_TOPIC_HEADER,
  type Delivery,
  ID_HEADER,
  TOPIC_HEADER,
} from '../../broker/broker.js'
import { BrokerDelivery } from '../../broker/delivery.js'
import { outgoingHeaders } from '../../broker/headers.js'
import { assertQueue, assertTopic } from '../../broker/names.js'
import { MicroError, type MicroErrorJSON } from '../../errors/errors.js'
import type { Context } from '../../server/context.js'
import type { Headers } from '../../transport/frame.js'
import { AsyncQueue } from '../../util/async-queue.js'
import {
  decodeBytes,
  encodeBytes,
  type Fields,
  fields,
  invalid,
  namespaceOf,
  optionalString,
  optionalStringMap,
  PLATFORM_ERROR_ID,
  requiredString,
  retryLimitOf,
  type StreamHandlerOptions,
  streamSignal,
} from './wire.js'

/** How many deliveries one remote subscription may hold unsettled. */
export const SUBSCRIBE_WINDOW = 256

/** One message delivered on `Broker.Subscribe`, settled later by its `tag`. */
export interface WireDelivery {
  tag: number
  topic: string
  queue?: string
  headers: Headers
  /** The body as base64. */
  body: string
  redelivered: boolean
}

/** What a subscriber sends after its first message (the subscribe request). */
export interface SettleMessage {
  tag: number
  settle: 'ack' | 'nack' | 'release'
  /** For `nack`: deliver it again (default true) or dead-letter it now. */
  requeue?: boolean
}

/** What `Broker.Subscribe` sends. */
export type SubscribeOutput =
  | { ready: true }
  | WireDelivery
  | { tag: number; settled: true }
  | { tag: number; error: MicroErrorJSON }

/**
 * The broker as a service: `Broker.Publish`, and `Broker.Subscribe`, a bidirectional
 * stream that holds one subscription of the server's broker for the caller and carries
 * acks and nacks back on the same stream, so nacks redeliver and dead-letter as the engine
 * does. Topics live in their namespace: the engine sees `<namespace>.<topic>` (every
 * namespace, `micro` included, so no two namespaces can meet), and the prefix is taken off
 * again in what subscribers get.
 */
export class Broker {
  readonly #broker: BrokerEngine
  readonly #closing: AbortSignal | undefined

  constructor(broker: BrokerEngine, options: StreamHandlerOptions = {}) {
    this.#broker = broker
    this.#closing = options.closing
  }

  /** `{namespace?, topic, headers?, body?}` (body base64) → `{id}`, the message id. */
  async Publish(request: unknown): Promise<{ id: string }> {
    const req = fields(request, 'Broker.Publish')
    const namespace = namespaceOf(req)
    const topic = topicOf(req)
    // Keys lower-cased and an id made here, so the caller learns the id the message carries.
    const headers = outgoingHeaders(topic, optionalStringMap(req, 'headers'))
    const body = req.body === undefined ? new Uint8Array(0) : decodeBytes(req.body, 'body')
    await this.#broker.publish(`${namespace}.${topic}`, { headers, body })
    return { id: headers[ID_HEADER] as string }
  }

  /**
   * The first message is `{namespace?, topic, queue?, retryLimit?, deadLetter?}`
   * (`retryLimit` may be `"Infinity"`, `deadLetter` may be false); the stream answers
   * `{ready: true}` once the engine routes messages, then a {@link WireDelivery} per message.
   * Send `{tag, settle: 'ack' | 'nack' | 'release', requeue?}` for each; the answer is
   * `{tag, settled: true}` or `{tag, error}`. At most {@link SUBSCRIBE_WINDOW} deliveries are
   * unsettled at once. A half-close or cancel unsubscribes; what is unsettled then is given
   * back to the engine.
   */
  async *Subscribe(input: AsyncIterable<unknown>, ctx: Context): AsyncGenerator<SubscribeOutput> {
    const iterator = input[Symbol.asyncIterator]()
    const first = await iterator.next()
    if (first.done) throw invalid('Broker.Subscribe needs a first message: the subscribe request')
    const req = fields(first.value, 'Broker.Subscribe')
    const namespace = namespaceOf(req)
    const prefix = `${namespace}.`
    const topic = topicOf(req)
    const queue = optionalString(req, 'queue')
    assertQueue(queue, 'platform')
    const deadLetter = req.deadLetter === false ? false : optionalString(req, 'deadLetter')
    if (deadLetter) assertTopic(deadLetter, 'platform')
    const signal = streamSignal(ctx, this.#closing)
    const out = new AsyncQueue<SubscribeOutput>()
    const held = new Map<number, { delivery: Delivery; done: () => void }>()
    let tag = 0
    const sub = await this.#broker.subscribe(
      prefix + topic,
      (delivery) =>
        new Promise<void>((done) => {
          const next = ++tag
          held.set(next, { delivery, done })
          out.push(toWire(next, topic, prefix, delivery))
        }),
      {
        queue,
        autoAck: false,
        concurrency: SUBSCRIBE_WINDOW,
        retryLimit: retryLimitOf(req),
        deadLetter: deadLetter === false ? false : deadLetter === undefined ? undefined : prefix + deadLetter,
        signal,
      },
    )
    const settling = new Set<Promise<void>>()
    const settle = (message: SettleMessage) => {
      const entry = held.get(message?.tag)
      if (!entry) {
        out.push({ tag: message?.tag, error: errorOf(invalid(`no delivery ${message?.tag} to settle`)) })
        return
      }
      held.delete(message.tag)
      entry.done()
      const done = settleOne(entry.delivery, message).then(
        () => out.push({ tag: message.tag, settled: true }),
        (error: unknown) => out.push({ tag: message.tag, error: errorOf(error) }),
      )
      settling.add(done)
      void done.finally(() => settling.delete(done))
    }
    if (signal.aborted) out.end()
    else signal.addEventListener('abort', () => out.end(), { once: true })
    void (async () => {
      try {
        for (;;) {
          const next = await iterator.next()
          if (next.done) break
          settle(next.value as SettleMessage)
        }
        // A half-close is an unsubscribe: answer what was settled before it first.
        await Promise.all(settling)
      } catch {
        // canceled or lost: unsubscribed below
      }
      out.end()
    })()
    try {
      yield { ready: true }
      yield* out
    } finally {
      await sub.unsubscribe()
      for (const { delivery, done } of held.values()) {
        done()
        await giveBack(delivery).catch(() => {})
      }
      held.clear()
    }
  }
}

function topicOf(req: Fields): string {
  const topic = requiredString(req, 'topic')
  assertTopic(topic, 'platform')
  return topic
}

function settleOne(delivery: Delivery, message: SettleMessage): Promise<void> {
  if (message.settle === 'ack') return delivery.ack()
  if (message.settle === 'nack') return delivery.nack({ requeue: message.requeue !== false })
  if (message.settle === 'release') return giveBack(delivery)
  return Promise.reject(invalid(`unknown settle ${String(message.settle)}`))
}

/** Give a delivery back uncounted where the engine can take it (a redelivery otherwise). */
async function giveBack(delivery: Delivery): Promise<void> {
  if (delivery instanceof BrokerDelivery) await delivery.release()
  else await delivery.nack()
}

function toWire(tag: number, topic: string, prefix: string, delivery: Delivery): WireDelivery {
  const headers: Headers = { ...delivery.headers }
  headers[TOPIC_HEADER] = topic
  const dead = headers[DEAD_TOPIC_HEADER]
  if (dead?.startsWith(prefix)) headers[DEAD_TOPIC_HEADER] = dead.slice(prefix.length)
  const wire: WireDelivery = {
    tag,
    topic,
    headers,
    body: encodeBytes(delivery.body),
    redelivered: delivery.redelivered,
  }
  if (delivery.queue !== undefined) wire.queue = delivery.queue
  return wire
}

function errorOf(error: unknown): MicroErrorJSON {
  return MicroError.from(error, PLATFORM_ERROR_ID).toJSON()
}
