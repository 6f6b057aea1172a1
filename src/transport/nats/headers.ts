import type { MsgHdrs } from '@nats-io/transport-node'
import type { NatsModule } from '../../engines/nats.js'
import { badRequest } from '../../errors/errors.js'
import { type Headers, newHeaders, setHeader } from '../frame.js'

/** On a reply: the body is the error JSON. `lost` when the server went away mid-call. */
export const ERROR_HEADER = 'micro-error'
/** On a plain request: a stream, which plain requests cannot carry (refused with a 400). */
export const STREAM_HEADER = 'micro-stream'
export const ENDPOINT_HEADER = 'micro-endpoint'
export const TIMEOUT_HEADER = 'timeout'

/** Printable ASCII except the colon: what a NATS (MIME) header name may hold. */
const VALID_KEY = /^[!-9;-~]+$/
const LINE_BREAK = /[\r\n]/

/**
 * Our headers as NATS message headers (keys lower-case as given). NATS headers are text
 * lines, so a key outside printable ASCII or a value with a line break is a 400. NATS trims
 * values, so leading and trailing spaces do not survive.
 */
export function toNatsHeaders(nats: NatsModule, headers: Headers, extra?: Headers): MsgHdrs {
  const record: Record<string, string[]> = {}
  for (const source of extra === undefined ? [headers] : [headers, extra]) {
    for (const key in source) {
      const value = source[key] as string
      if (!VALID_KEY.test(key))
        throw badRequest('micro.client', `header name ${JSON.stringify(key)} cannot travel over NATS`)
      if (LINE_BREAK.test(value)) throw badRequest('micro.client', `header ${key} has a line break`)
      record[key] = [value]
    }
  }
  return nats.MsgHdrsImpl.fromRecord(record)
}

/** NATS message headers as ours: keys lower-cased, the first value of each. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): Headers {
  const result = newHeaders()
  if (headers === undefined) return result
  for (const [key, values] of headers) {
    const value = values[0]
    if (value !== undefined) setHeader(result, key.toLowerCase(), value)
  }
  return result
}

/** Bytes `headers` take on the wire (`NATS/1.0` line, `key: value` lines, blank line). */
export function natsHeaderSize(headers: MsgHdrs | undefined): number {
  if (headers === undefined) return 0
  let size = 12
  for (const [key, values] of headers) {
    for (const value of values) size += Buffer.byteLength(key) + Buffer.byteLength(value) + 4
  }
  return size
}

/** Whether a message is the NATS server's "no responders" status (503, no body). */
export function isNoResponders(headers: MsgHdrs | undefined): boolean {
  return headers !== undefined && headers.code === 503
}
