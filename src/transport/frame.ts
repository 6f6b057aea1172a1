/**
 * The micro protocol: length-prefixed binary frames multiplexed on one TCP connection.
 *
 * Every frame starts with a fixed 16-byte header (big-endian):
 *
 * | offset | size | field                                          |
 * |--------|------|------------------------------------------------|
 * | 0      | 1    | version, always 1 (also tells it from HTTP)    |
 * | 1      | 1    | type (FrameType)                               |
 * | 2      | 1    | flags (FrameFlag bits)                         |
 * | 3      | 1    | reserved, 0                                    |
 * | 4      | 4    | call id: one call or stream per id             |
 * | 8      | 4    | header block length                            |
 * | 12     | 4    | body length                                    |
 *
 * then the header block, then the body. A header entry is `[k][key][u16 len][value]`:
 * when the high bit of `k` is set, `k & 0x7f` indexes KNOWN_HEADERS and no key follows;
 * otherwise `k` is the key's byte length (1..127). Keys are lower-case, values UTF-8.
 */
export const PROTOCOL_VERSION = 1
export const FRAME_HEADER_SIZE = 16

export const FrameType = {
  /** Client opens a call. Flag MESSAGE: the body is the first message. Flag END: no more follow. */
  Request: 1,
  /** One message on an open call, either way. Flag END: the sender's last message. */
  Data: 2,
  /** The sender is done without a last message (half-close; from the server: success). */
  End: 3,
  /** Server ends the call with an error; the body is the error JSON. */
  Error: 4,
  /** Client abandons the call; the server aborts the handler. */
  Cancel: 5,
  Ping: 6,
  Pong: 7,
  /** No new calls on this connection; the body says why. In-flight calls finish. */
  GoAway: 8,
} as const
export type FrameType = (typeof FrameType)[keyof typeof FrameType]
export const MAX_FRAME_TYPE = 8

export const FrameFlag = {
  /** The sender sends nothing more on this call. */
  End: 1,
  /** On Request: the body is the first message. */
  Message: 2,
  /** On Request: a streaming call; the server keeps it open for more Data frames. */
  Stream: 4,
} as const

/** Headers as they travel: lower-case keys, string values. */
export type Headers = Record<string, string>

/** Header keys sent as one byte. The indexes are part of the wire format: only append. */
export const KNOWN_HEADERS: readonly string[] = [
  '',
  'micro-endpoint',
  'content-type',
  'timeout',
  'micro-service',
  'micro-namespace',
  'micro-caller',
  'traceparent',
  'tracestate',
  'accept',
  'authorization',
  'micro-stream',
]

export const KNOWN_HEADER_INDEX: ReadonlyMap<string, number> = new Map(
  KNOWN_HEADERS.map((name, index) => [name, index] as const).filter(([name]) => name !== ''),
)

/** The default cap on header block plus body of one frame: 4 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024

/** A decoded frame, as tests and tools collect them; `body` is a view into the received bytes. */
export interface Frame {
  type: FrameType
  flags: number
  id: number
  headers: Headers | undefined
  body: Buffer
}

/**
 * A new header map. A plain object (fast property access, unlike a null-prototype one);
 * `setHeader` keeps the one dangerous key, `__proto__`, out of it.
 */
export function newHeaders(): Headers {
  return {}
}

/** Set a header unless its name is `__proto__`, which would rewrite the map's prototype. */
export function setHeader(headers: Headers, key: string, value: string): void {
  if (key !== '__proto__') headers[key] = value
}
