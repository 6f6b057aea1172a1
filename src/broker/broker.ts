import type { Headers } from '../transport/frame.js'

export type { Headers } from '../transport/frame.js'

/** Header naming the topic a message was published to; set by every broker on publish. */
export const TOPIC_HEADER = 'micro-topic'
/** Header carrying the message id; a broker sets a new UUID when the publisher gave none. */
export const ID_HEADER = 'micro-id'
/** Header counting deliveries of a message after a nack: absent on the first, `2` on the next. */
export const ATTEMPT_HEADER = 'micro-attempt'
/** Header naming why a message was dead-lettered. */
export const DEAD_REASON_HEADER = 'micro-dead-letter-reason'
/** Header naming the topic a dead-lettered message was published to. */
export const DEAD_TOPIC_HEADER = 'micro-dead-letter-topic'
/** Default `retryLimit`: a nacked message is delivered at most this many more times. */
export const DEFAULT_RETRY_LIMIT = 3

/** A message as published: headers (lower-case keys, string values) and body bytes. */
export interface Message {
  headers: Headers
  body: Uint8Array
}

/** What `publish` takes: headers are optional. */
export interface OutgoingMessage {
  headers?: Readonly<Record<string, string>>
  body: Uint8Array
}

/** How a message is given back when it is not acknowledged. */
export interface NackOptions {
  /**
   * Whether it should be delivered again (to this or another member of the group), up to
   * the subscription's `retryLimit`. Default true. False sends it to the dead-letter topic at once.
   */
  requeue?: boolean
}

/**
 * A message delivered to a subscription. `ack()` and `nack()` settle it once (later calls do
 * nothing); with auto-ack (the default) the broker acks when the handler has finished,
 * whether it returned or threw, unless the handler settled it itself. `nack()` delivers it
 * again on every engine, up to the subscription's `retryLimit`, and then publishes it to
 * the dead-letter topic: through the engine where it can take a message back (memory, Redis
 * queue groups, RabbitMQ), to the same subscription in this process otherwise (default,
 * NATS, Redis plain subscribers, MQTT). `ack()` is a no-op on engines without acks.
 */
export interface Delivery extends Message {
  readonly topic: string
  /** The `micro-id` header. */
  readonly id: string
  /** The queue group it was delivered through; undefined for a plain subscription. */
  readonly queue: string | undefined
  /** True when the engine delivers it again after a nack or a lost consumer. */
  readonly redelivered: boolean
  /** 1 on the first delivery, counting up with each nack (the `micro-attempt` header). */
  readonly attempt: number
  /** Done with it: the engine forgets it. */
  ack(): Promise<void>
  /**
   * Not done: it is delivered again (requeue, default) while `attempt` is within the retry
   * limit, else (or with `requeue: false`) published to the dead-letter topic with
   * `micro-dead-letter-reason`. Resolves once that is done.
   */
  nack(options?: NackOptions): Promise<void>
}

/** Receives deliveries. A throw is logged and the subscription goes on. */
export type DeliveryHandler = (message: Delivery) => unknown

/** Options of `broker.subscribe(topic, handler, options)`. */
export interface SubscribeOptions {
  /**
   * Queue group: the members of one group share the messages, each message going to one
   * member. Different groups, and plain subscribers (no queue), each get every message.
   */
  queue?: string
  /** Ack when the handler finishes (default true). False: call `ack()`/`nack()` yourself. */
  autoAck?: boolean
  /** Handlers running at once for this subscription. Default 1: messages are handled in order. */
  concurrency?: number
  /**
   * How many times a nacked message is delivered again: it is delivered at most
   * `retryLimit + 1` times, then dead-lettered. Default 3; `Infinity` retries forever.
   */
  retryLimit?: number
  /**
   * Where nacked messages out of retries go, with `micro-dead-letter-reason` and
   * `micro-dead-letter-topic`: default `<topic>.dead`; false drops them (logged).
   */
  deadLetter?: string | false
  /** Unsubscribes when aborted. */
  signal?: AbortSignal
}

/** One live subscription. */
export interface Subscription {
  readonly topic: string
  readonly queue: string | undefined
  /**
   * Stop deliveries. Messages already queued in this process and not yet handed to the
   * handler are given back (without counting an attempt) where the engine can take them
   * back, dropped otherwise; a handler already running is not waited for.
   */
  unsubscribe(): Promise<void>
}

/**
 * Asynchronous publish/subscribe. Topics are dot-separated words (`orders.created`);
 * wildcards are not supported, since every engine reads them differently.
 */
export interface Broker {
  /** The implementation's name: `memory`, `default`, `nats`, `redis`, `amqp`, `mqtt`. */
  readonly name: string
  /** Connect now; otherwise the first publish or subscribe does. Rejects when the engine is unreachable. */
  connect(): Promise<void>
  /**
   * Publish a message. `micro-topic` is set to the topic and `micro-id` to a new UUID unless
   * given; other headers travel unchanged. Resolves when the engine has taken the message
   * (see each implementation for what that promises). No subscriber is not an error.
   */
  publish(topic: string, message: OutgoingMessage): Promise<void>
  /** Subscribe; resolves once the engine routes messages to the subscription. */
  subscribe(topic: string, handler: DeliveryHandler, options?: SubscribeOptions): Promise<Subscription>
  /** Unsubscribe everything and release connections, sockets and timers. Later calls fail with 503. */
  close(): Promise<void>
}
