import { badRequest } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { Headers } from '../transport/frame.js'
import {
  ATTEMPT_HEADER,
  DEAD_REASON_HEADER,
  DEAD_TOPIC_HEADER,
  DEFAULT_RETRY_LIMIT,
  type OutgoingMessage,
} from './broker.js'
import { BrokerDelivery, type Nacker } from './delivery.js'

/** Where a subscription's nacked messages go, as `subscribe` options give it. */
export interface RetryOptions {
  broker: string
  topic: string
  /** Deliveries allowed: retryLimit + 1 (Infinity: retry forever). */
  maxAttempts: number
  deadLetter: string | false
  /** The broker's own publish, for dead letters. */
  publish: (topic: string, message: OutgoingMessage) => Promise<void>
  logger: Logger
}

/** The inbox a local redelivery goes back to. */
export interface Redeliver {
  readonly stopped: boolean
  push(delivery: BrokerDelivery): void
}

/** Check `retryLimit` and `deadLetter` of a subscribe call: deliveries allowed and the target. */
export function retryPlan(
  broker: string,
  topic: string,
  retryLimit: number | undefined,
  deadLetter: string | false | undefined,
): { maxAttempts: number; deadLetter: string | false } {
  const limit = retryLimit ?? DEFAULT_RETRY_LIMIT
  if (!(limit === Number.POSITIVE_INFINITY || (Number.isSafeInteger(limit) && limit >= 0)))
    throw badRequest('micro.broker', `${broker} broker: retryLimit must be a whole number >= 0 or Infinity`)
  if (
    deadLetter !== undefined &&
    deadLetter !== false &&
    (typeof deadLetter !== 'string' || deadLetter === topic)
  )
    throw badRequest('micro.broker', `${broker} broker: deadLetter must be another topic or false`)
  return { maxAttempts: limit + 1, deadLetter: deadLetter ?? `${topic}.dead` }
}

/**
 * What `nack()` does on every engine: deliver the message again with `micro-attempt` one
 * higher while it has attempts left (through the engine where it can take a message back,
 * else to the same subscription in this process), and otherwise, or on `requeue: false`,
 * publish it to the dead-letter topic with the reason. Nothing is dropped quietly: with
 * `deadLetter: false` the drop is logged.
 */
export class Retry implements Nacker {
  readonly #options: RetryOptions
  readonly #inbox: Redeliver

  constructor(options: RetryOptions, inbox: Redeliver) {
    this.#options = options
    this.#inbox = inbox
  }

  async nack(delivery: BrokerDelivery, requeue: boolean): Promise<void> {
    const { maxAttempts } = this.#options
    const attempt = delivery.attempt
    if (requeue && attempt < maxAttempts) {
      const headers: Headers = { ...delivery.headers, [ATTEMPT_HEADER]: String(attempt + 1) }
      const settler = delivery.settler
      if (settler?.requeue) return await settler.requeue(headers)
      if (!this.#inbox.stopped) {
        this.#inbox.push(
          new BrokerDelivery({
            topic: delivery.topic,
            queue: delivery.queue,
            headers,
            body: delivery.body,
            redelivered: true,
            settler,
          }),
        )
        return
      }
      return await this.#deadLetter(delivery, `nacked on delivery ${attempt} after the subscription ended`)
    }
    const reason = requeue
      ? `nacked on delivery ${attempt} of ${maxAttempts}`
      : `nacked without requeue on delivery ${attempt}`
    await this.#deadLetter(delivery, reason)
  }

  async #deadLetter(delivery: BrokerDelivery, reason: string): Promise<void> {
    const { deadLetter, logger, broker, topic } = this.#options
    const fields = { broker, topic, id: delivery.id, reason }
    if (deadLetter === false) {
      logger.warn('dropped a nacked message (deadLetter: false)', fields)
      await delivery.settler?.ack()
      return
    }
    const headers: Headers = {
      ...delivery.headers,
      [DEAD_REASON_HEADER]: reason,
      [DEAD_TOPIC_HEADER]: delivery.topic,
    }
    try {
      await this.#options.publish(deadLetter, { headers, body: delivery.body })
    } catch (error) {
      logger.error('could not dead-letter a nacked message', { ...fields, deadLetter, error })
      // Where the engine can take it back it comes again; elsewhere it is lost, and the caller hears.
      await delivery.settler?.nack(true)
      throw error
    }
    logger.warn('sent a nacked message to the dead-letter topic', { ...fields, deadLetter })
    await delivery.settler?.ack()
  }
}
