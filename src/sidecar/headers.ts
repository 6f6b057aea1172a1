import type { IncomingHttpHeaders } from 'node:http'
import { HOP_HEADERS } from '../client/options.js'

/** Headers that cross as metadata unless told otherwise (the gateway's list). */
export const DEFAULT_METADATA: readonly string[] = [
  'traceparent',
  'tracestate',
  'baggage',
  'x-request-id',
  'accept-language',
]

/**
 * Credentials never cross raw, even on a `*` prefix: an app's Authorization or Cookie
 * means nothing to the next service, and a caller's token must not reach the app.
 */
const CREDENTIALS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'micro-caller-token',
  'micro-account',
  'micro-api-token',
])

/** Headers HTTP itself gives meaning to: never metadata, whatever the list says. */
const HTTP_OWN = new Set(['upgrade', 'te', 'trailer', 'proxy-connection', 'origin', 'referer', 'if-match'])

const TOKEN = /^[a-z0-9!#$%&'*+.^_`|~-]+$/
/** A header value Node will write: visible ASCII, spaces and tabs, no CR/LF. */
const SAFE_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * The metadata allow-list: lower-case names, and prefixes written `x-*`. Throws a TypeError
 * for a credential or a header that belongs to the call, as the gateway does.
 */
export function metadataAllowList(names: readonly string[] = DEFAULT_METADATA): string[] {
  const out = new Set<string>()
  for (const raw of names) {
    const name = raw.trim().toLowerCase()
    if (name === '') continue
    const bare = name.endsWith('*') ? name.slice(0, -1) : name
    if (CREDENTIALS.has(bare)) throw new TypeError(`the ${bare} header never crosses the sidecar raw`)
    if (HOP_HEADERS.has(bare) || HTTP_OWN.has(bare)) {
      throw new TypeError(`the ${bare} header belongs to the call and is not metadata`)
    }
    if (!TOKEN.test(bare) && !(bare === '' && name === '*'))
      throw new TypeError(`${raw} is not a header name`)
    out.add(name)
  }
  return [...out]
}

/** Whether `name` (lower-case) is on the list, by name or prefix, and may cross at all. */
export function allowed(name: string, list: readonly string[]): boolean {
  if (CREDENTIALS.has(name) || HOP_HEADERS.has(name) || HTTP_OWN.has(name) || name.startsWith('micro-')) {
    return false
  }
  for (const entry of list) {
    if (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name) return true
  }
  return false
}

/** The allowed request headers as call metadata; undefined when there are none. */
export function metadataFromHeaders(
  headers: IncomingHttpHeaders,
  list: readonly string[],
): Record<string, string> | undefined {
  let metadata: Record<string, string> | undefined
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || !allowed(name, list)) continue
    metadata ??= {}
    metadata[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return metadata
}

/**
 * Add the allowed entries of call or message metadata to outgoing headers. Values HTTP
 * cannot carry (CR, LF, control bytes) are left out rather than failing the request.
 */
export function addMetadataHeaders(
  into: Record<string, string>,
  metadata: Readonly<Record<string, string>>,
  list: readonly string[],
): void {
  for (const name in metadata) {
    const value = metadata[name]
    if (typeof value !== 'string' || !TOKEN.test(name) || !allowed(name, list) || !SAFE_VALUE.test(value)) {
      continue
    }
    into[name] = value
  }
}

/** The `Micro-Timeout` header (ms) a caller sent, when it is a positive number. */
export function timeoutHeader(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['micro-timeout']
  if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw.trim())) return undefined
  const ms = Number(raw)
  return ms > 0 ? ms : undefined
}

/** A value safe to put in a header: control characters removed, at most `max` characters. */
export function headerSafe(value: string, max = 256): string {
  return value.replace(/[^\t\x20-\x7e]/g, '').slice(0, max)
}
