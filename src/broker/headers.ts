import { type Headers, newHeaders } from '../transport/frame.js'
import { uuid } from '../util/ids.js'
import { ID_HEADER, TOPIC_HEADER } from './broker.js'

/**
 * The headers a message is published with: the caller's (keys lower-cased, values as
 * strings), `micro-topic` set to the topic, and `micro-id` kept or newly made.
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
  if (!headers[ID_HEADER]) headers[ID_HEADER] = uuid()
  return headers
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
