import { type Headers, newHeaders } from '../transport/frame.js'
import { ID_HEADER, TOPIC_HEADER } from './broker.js'
import { newMessageId } from './message-id.js'

/**
 * The headers a message is published with: the caller's (keys lower-cased, values as
 * strings), `micro-topic` set to the topic, and `micro-id` kept or newly made. A copy: the
 * engine may keep it while the caller reuses its own map.
 */
export function outgoingHeaders(topic: string, given: Readonly<Record<string, string>> | undefined): Headers {
  const headers = newHeaders()
  if (given) {
    for (const key in given) {
      const lower = key.toLowerCase()
      if (lower === '__proto__') continue
      headers[lower] = String(given[key])
    }
  }
  headers[TOPIC_HEADER] = topic
  if (!headers[ID_HEADER]) headers[ID_HEADER] = newMessageId()
  return headers
}

/**
 * The same headers as `outgoingHeaders`, for an engine that encodes them at once and keeps
 * nothing: the caller's own map when it already is what would be sent (lower-case keys,
 * string values, this topic, an id), as the service layer's `publish` makes it, so the hot
 * path copies nothing; a normalized copy otherwise.
 */
export function messageHeaders(topic: string, given: Readonly<Record<string, string>> | undefined): Headers {
  if (given === undefined || given[TOPIC_HEADER] !== topic || !given[ID_HEADER]) {
    return outgoingHeaders(topic, given)
  }
  for (const key in given) {
    if (typeof given[key] !== 'string' || key === '__proto__' || key.toLowerCase() !== key) {
      return outgoingHeaders(topic, given)
    }
  }
  return given as Headers
}

/** Headers from an engine's key/value pairs, keys lower-cased; repeated keys keep the last value. */
export function incomingHeaders(entries: Iterable<readonly [string, unknown]>): Headers {
  const headers = newHeaders()
  for (const [key, value] of entries) {
    const lower = key.toLowerCase()
    if (lower === '__proto__') continue
    const last = Array.isArray(value) ? value[value.length - 1] : value
    if (last === undefined || last === null) continue
    headers[lower] = Buffer.isBuffer(last) ? last.toString('utf8') : String(last)
  }
  return headers
}

/**
 * Headers decoded from JSON a broker wrote: kept as they are when every key is lower-case
 * and every value a string (what a micro-ts publisher sends), normalized otherwise.
 */
export function trustedHeaders(parsed: Record<string, unknown>): Headers {
  for (const key in parsed) {
    if (typeof parsed[key] !== 'string' || key === '__proto__' || key.toLowerCase() !== key) {
      return incomingHeaders(Object.entries(parsed))
    }
  }
  return parsed as Headers
}
