import { badRequest, serviceUnavailable } from '../errors/errors.js'

/** The error id of everything the events building block raises. */
export const EVENTS_ERROR_ID = 'micro.events'

// Topics become NATS subjects and Redis keys, groups NATS consumer names: keep both to
// characters every engine takes as they are, so a name means the same thing everywhere.
const TOPIC = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/
const NAME = /^[A-Za-z0-9_-]+$/
const MAX_TOPIC = 200
const MAX_NAME = 64

/** The topic, or a 400 naming what is wrong with it. */
export function checkTopic(topic: unknown, what = 'topic'): string {
  if (typeof topic !== 'string' || topic === '') throw badRequest(EVENTS_ERROR_ID, `${what} is required`)
  if (topic.length > MAX_TOPIC || !TOPIC.test(topic)) {
    throw badRequest(
      EVENTS_ERROR_ID,
      `bad ${what} "${shorten(topic)}": use letters, digits, _ and - in dot-separated words (at most ${MAX_TOPIC} characters)`,
    )
  }
  return topic
}

/** Whether `value` is a well-formed topic (engines skip stream names that are not ones). */
export function isTopic(value: string): boolean {
  return value.length <= MAX_TOPIC && TOPIC.test(value)
}

/** A namespace or group name, or a 400. */
export function checkName(value: unknown, what: 'namespace' | 'group'): string {
  if (typeof value !== 'string' || value === '')
    throw badRequest(EVENTS_ERROR_ID, `${what} must not be empty`)
  if (value.length > MAX_NAME || !NAME.test(value)) {
    throw badRequest(
      EVENTS_ERROR_ID,
      `bad ${what} "${shorten(value)}": use letters, digits, _ and - (at most ${MAX_NAME} characters)`,
    )
  }
  return value
}

/** The error every call on a closed Events instance fails with. */
export function closedError(name: string): Error {
  return serviceUnavailable(EVENTS_ERROR_ID, `the ${name} events are closed`)
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text
}
