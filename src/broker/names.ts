import { badRequest, type MicroError, serviceUnavailable } from '../errors/errors.js'

const TOPIC = /^[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*$/
const QUEUE = /^[A-Za-z0-9_\-:.]+$/

/**
 * Check a topic: dot-separated words of letters, digits, `_ - : /`, at most 255 characters.
 * That is the set every engine takes literally (NATS subjects, AMQP routing keys, MQTT
 * topics, Redis channels); wildcards (`* > # +`) and empty words are refused with a 400.
 */
export function assertTopic(topic: unknown, broker: string): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 255 || !TOPIC.test(topic)) {
    throw badRequest(
      'micro.broker',
      `${broker} broker: bad topic ${JSON.stringify(topic)}: use dot-separated words of letters, digits, _ - : / (no wildcards, no spaces)`,
    )
  }
}

/** Check a queue group name: letters, digits, `_ - : .`, at most 128 characters. */
export function assertQueue(queue: unknown, broker: string): asserts queue is string | undefined {
  if (queue === undefined) return
  if (typeof queue !== 'string' || queue.length === 0 || queue.length > 128 || !QUEUE.test(queue)) {
    throw badRequest(
      'micro.broker',
      `${broker} broker: bad queue group ${JSON.stringify(queue)}: use letters, digits, _ - : .`,
    )
  }
}

/** The error of a call on a closed broker. */
export function closedError(broker: string): MicroError {
  return serviceUnavailable('micro.broker', `${broker} broker is closed`)
}

/** A positive integer option, or the default. */
export function positive(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${what} must be a positive integer`)
  return value
}
