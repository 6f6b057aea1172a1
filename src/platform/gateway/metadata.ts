import type { IncomingMessage } from 'node:http'
import { HOP_HEADERS } from '../../client/options.js'

/** Request headers passed to services as metadata unless the gateway is told otherwise. */
export const DEFAULT_METADATA_HEADERS: readonly string[] = [
  'traceparent',
  'tracestate',
  'baggage',
  'x-request-id',
  'accept-language',
]

/** Credentials never reach a service raw (the auth layer turns them into an account). */
const CREDENTIALS = new Set(['cookie', 'authorization', 'proxy-authorization', 'set-cookie'])

/**
 * The allow-list of request headers passed to services as metadata, lower-cased. Throws a
 * TypeError for a credential header (Cookie, Authorization) or one the call itself sets
 * (Content-Type, Micro-Endpoint, Host ...): those can never be forwarded.
 */
export function metadataAllowList(names: readonly string[]): string[] {
  const out = new Set<string>()
  for (const raw of names) {
    const name = raw.trim().toLowerCase()
    if (name === '') continue
    if (CREDENTIALS.has(name)) {
      throw new TypeError(`the ${name} header is never passed to services raw; the auth layer reads it`)
    }
    if (HOP_HEADERS.has(name))
      throw new TypeError(`the ${name} header belongs to the call and is not metadata`)
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw new TypeError(`${raw} is not a header name`)
    out.add(name)
  }
  return [...out]
}

/** The allowed headers a request carries, as call metadata; undefined when it carries none. */
export function metadataOf(
  req: IncomingMessage,
  allowed: readonly string[],
): Record<string, string> | undefined {
  let metadata: Record<string, string> | undefined
  const headers = req.headers
  for (let i = 0; i < allowed.length; i++) {
    const name = allowed[i] as string
    const value = headers[name]
    if (value === undefined) continue
    metadata ??= {}
    metadata[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return metadata
}
