import type { Codec } from '../codec/codec.js'
import type { Codecs } from '../codec/codecs.js'
import { defaultCodecs } from '../codec/codecs.js'
import { MicroError } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import type { Context, Metadata } from '../server/context.js'
import { validate } from '../server/schema.js'
import type { InferOutput, StandardSchema } from '../server/standard-schema.js'
import {
  type Broker,
  DEAD_REASON_HEADER,
  DEAD_TOPIC_HEADER,
  type Delivery,
  type NackOptions,
  type Subscription,
} from './broker.js'

export { DEAD_REASON_HEADER, DEAD_TOPIC_HEADER } from './broker.js'

/**
 * What a subscriber knows about the message it handles. It is a handler Context, so pass it
 * as `context` to a client call or a publish to carry trace context and metadata on.
 */
export interface MessageContext extends Context {
  readonly topic: string
  /** The message id (`micro-id`). */
  readonly id: string
  readonly queue: string | undefined
  readonly redelivered: boolean
  /** With `autoAck: false`: done with the message. */
  ack(): Promise<void>
  /** With `autoAck: false`: deliver it again (up to `retryLimit`, then dead-letter it). */
  nack(options?: NackOptions): Promise<void>
}

/** A subscriber: the decoded (and validated) payload and its message context; a throw nacks the message when auto-acked. */
export type MessageHandler<T> = (payload: T, ctx: MessageContext) => unknown

/** Options of a subscription made with `service.subscribe` or {@link subscribe}. */
export interface SubscriberOptions<S extends StandardSchema | undefined = undefined> {
  /** Queue group: its members share the messages. */
  queue?: string
  /** Ack when the handler returns or throws (default true). False: `ctx.ack()`/`ctx.nack()`. */
  autoAck?: boolean
  /** Handlers running at once. Default 1 (in order). */
  concurrency?: number
  /** Validate each decoded message (zod, valibot, ...); an invalid one is dead-lettered. */
  schema?: S
  /**
   * Where messages that cannot be decoded or fail the schema go, and nacked ones out of
   * retries, with the reason in `micro-dead-letter-reason`. Default `<topic>.dead`; false
   * drops them (logged).
   */
  deadLetter?: string | false
  /** How many times a nacked message is delivered again before it is dead-lettered. Default 3. */
  retryLimit?: number
  /**
   * Decode messages of this codec's content type with it (typed messages:
   * `protobufCodec(OrderSchema)`); other content types use `codecs`.
   */
  codec?: Codec
  codecs?: Codecs
  /** This service's name (ctx.service). Default `micro`. */
  service?: string
  signal?: AbortSignal
  logger?: Logger
}

/**
 * Subscribe with decoding by `content-type`, optional validation and a dead-letter topic.
 * The handler gets `(payload, ctx)` and never sees a message it cannot use. A handler that
 * throws is logged and the subscription goes on; with `autoAck: false` the message is then
 * nacked (requeued where the broker can) unless the handler settled it.
 */
export function subscribe<S extends StandardSchema>(
  broker: Broker,
  topic: string,
  handler: MessageHandler<InferOutput<S>>,
  options: SubscriberOptions<S> & { schema: S },
): Promise<Subscription>
export function subscribe<T = unknown>(
  broker: Broker,
  topic: string,
  handler: MessageHandler<T>,
  options?: SubscriberOptions,
): Promise<Subscription>
export async function subscribe(
  broker: Broker,
  topic: string,
  handler: MessageHandler<unknown>,
  options: SubscriberOptions<StandardSchema | undefined> = {},
): Promise<Subscription> {
  const service = options.service ?? 'micro'
  const autoAck = options.autoAck ?? true
  const codecs = options.codecs ?? defaultCodecs
  const own = options.codec
  const ownTypes = own ? new Set([own.contentType, ...(own.aliases ?? [])]) : undefined
  const codecFor = (contentType: string | undefined) =>
    own && ownTypes?.has(baseType(contentType)) ? own : codecs.get(contentType)
  const logger = options.logger ?? createLogger({ fields: { component: 'subscriber', service } })
  const deadLetter = options.deadLetter === undefined ? `${topic}.dead` : options.deadLetter
  const ended = new AbortController()
  const onAbort = () => ended.abort()
  options.signal?.addEventListener('abort', onAbort, { once: true })

  const reject = async (delivery: Delivery, reason: string): Promise<void> => {
    if (deadLetter === false) {
      logger.warn('dropped a message the subscriber cannot use', { topic, id: delivery.id, reason })
      await delivery.ack()
      return
    }
    try {
      const headers = {
        ...delivery.headers,
        [DEAD_REASON_HEADER]: reason,
        [DEAD_TOPIC_HEADER]: delivery.topic,
      }
      await broker.publish(deadLetter, { headers, body: delivery.body })
      logger.warn('sent a message the subscriber cannot use to the dead-letter topic', {
        topic,
        deadLetter,
        id: delivery.id,
        reason,
      })
      await delivery.ack()
    } catch (error) {
      logger.error('could not dead-letter a message; giving it back', {
        topic,
        deadLetter,
        id: delivery.id,
        error,
      })
      await delivery.nack()
    }
  }

  const failed = async (delivery: Delivery, error: unknown): Promise<void> => {
    logger.error('subscriber failed; the subscription goes on', { topic, id: delivery.id, error })
    if (!autoAck) await delivery.nack().catch(() => {})
  }

  /** Run the handler; a promise only when the handler returns one. */
  const handle = (payload: unknown, delivery: Delivery): Promise<void> | undefined => {
    let result: unknown
    try {
      result = handler(payload, new DeliveryContext(delivery, service, ended.signal))
    } catch (error) {
      return failed(delivery, error)
    }
    if (result instanceof Promise) return result.then(noop, (error: unknown) => failed(delivery, error))
    return undefined
  }

  // Synchronous unless something on the way is not (a schema, the handler), so a message a
  // plain handler takes costs no promise here.
  const onMessage = (delivery: Delivery): Promise<void> | undefined => {
    const contentType = delivery.headers['content-type']
    const codec = codecFor(contentType)
    if (!codec) return reject(delivery, `unsupported content-type ${contentType}`)
    let payload: unknown
    try {
      payload = codec.decode(delivery.body)
    } catch (error) {
      return reject(delivery, `cannot decode as ${codec.contentType}: ${(error as Error).message}`)
    }
    const schema = options.schema
    if (!schema) return handle(payload, delivery)
    let checked: unknown
    try {
      checked = validate(schema, payload, service, `message on ${topic}`)
    } catch (error) {
      return reject(delivery, MicroError.from(error).detail)
    }
    if (!(checked instanceof Promise)) return handle(checked, delivery)
    return checked.then(
      (value: unknown) => handle(value, delivery),
      (error: unknown) => reject(delivery, MicroError.from(error).detail),
    )
  }

  let subscription: Subscription
  try {
    subscription = await broker.subscribe(topic, onMessage, {
      queue: options.queue,
      autoAck,
      concurrency: options.concurrency,
      retryLimit: options.retryLimit,
      deadLetter,
      signal: options.signal,
    })
  } catch (error) {
    options.signal?.removeEventListener('abort', onAbort)
    throw error
  }
  return {
    topic: subscription.topic,
    queue: subscription.queue,
    async unsubscribe() {
      ended.abort()
      options.signal?.removeEventListener('abort', onAbort)
      await subscription.unsubscribe()
    },
  }
}

function noop(): void {}

/** A subscriber's ctx: the handler Context of one delivery, with its ack and nack. */
class DeliveryContext implements MessageContext {
  readonly endpoint: string
  readonly metadata: Metadata
  readonly deadline = undefined
  readonly remote = undefined
  readonly protocol = 'broker'
  readonly topic: string
  readonly id: string
  readonly queue: string | undefined
  readonly redelivered: boolean
  readonly #delivery: Delivery

  constructor(
    delivery: Delivery,
    readonly service: string,
    readonly signal: AbortSignal,
  ) {
    this.#delivery = delivery
    this.endpoint = delivery.topic
    // The delivery's headers are its own (every broker builds them per delivery), so they
    // are frozen in place rather than copied.
    this.metadata = Object.freeze(delivery.headers)
    this.topic = delivery.topic
    this.id = delivery.id
    this.queue = delivery.queue
    this.redelivered = delivery.redelivered
  }

  ack(): Promise<void> {
    return this.#delivery.ack()
  }

  nack(options?: NackOptions): Promise<void> {
    return this.#delivery.nack(options)
  }
}

/** A content type without parameters, lower-case (`application/json` for `Application/JSON; charset=utf-8`). */
function baseType(contentType: string | undefined): string {
  if (contentType === undefined) return ''
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}
