/**
 * Stream and control messages of the NATS transport: an 8-byte prefix, then the body.
 *
 * | offset | size | field                                                     |
 * |--------|------|-----------------------------------------------------------|
 * | 0      | 1    | version, always 1                                         |
 * | 1      | 1    | type (NatsFrame)                                          |
 * | 2      | 1    | flags (NatsFrameFlag bits)                                |
 * | 3      | 1    | reserved, 0                                               |
 * | 4      | 4    | value, big-endian: sequence, window or count (per type)   |
 *
 * Unary requests and replies do not use this: they are plain NATS messages with headers.
 */
export const NATS_FRAME_VERSION = 1
export const NATS_FRAME_HEADER = 8

export const NatsFrame = {
  /** Server -> client: the stream is accepted. Value: the server's receive window. */
  Open: 1,
  /** One message. Value: its sequence number, from 1 in each direction. */
  Data: 2,
  /** The sender is done (from the server: the stream succeeded). Value: the last sequence sent. */
  End: 3,
  /** Server -> client: the stream failed; body is the error JSON. */
  Error: 4,
  /** Abandon a stream or a unary call (the body then names the call's reply subject). */
  Cancel: 5,
  /** Are you there? Sent with a reply subject, so NATS answers 503 when nobody is. */
  Ping: 6,
  /** Yes. */
  Pong: 7,
  /** Window update. Value: how many messages the receiver has consumed in total. */
  Credit: 9,
} as const
export type NatsFrame = (typeof NatsFrame)[keyof typeof NatsFrame]

export const NatsFrameFlag = {
  /** On Error: the server went away (listener closed) rather than the handler failing. */
  Lost: 1,
} as const

/** A decoded frame; `body` is a view into the received bytes. */
export interface DecodedFrame {
  type: number
  flags: number
  value: number
  body: Uint8Array
}

/** Encode one frame; the body is copied after the prefix. */
export function encodeFrame(type: NatsFrame, value = 0, body?: Uint8Array, flags = 0): Uint8Array {
  const size = body === undefined ? 0 : body.length
  const bytes = new Uint8Array(NATS_FRAME_HEADER + size)
  bytes[0] = NATS_FRAME_VERSION
  bytes[1] = type
  bytes[2] = flags
  new DataView(bytes.buffer).setUint32(4, value >>> 0)
  if (body !== undefined && size > 0) bytes.set(body, NATS_FRAME_HEADER)
  return bytes
}

/** Decode a frame, or undefined when the bytes are not one of ours. */
export function decodeFrame(bytes: Uint8Array): DecodedFrame | undefined {
  if (bytes.length < NATS_FRAME_HEADER || bytes[0] !== NATS_FRAME_VERSION || bytes[3] !== 0) {
    return undefined
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, NATS_FRAME_HEADER)
  return {
    type: bytes[1] as number,
    flags: bytes[2] as number,
    value: view.getUint32(4),
    body: bytes.subarray(NATS_FRAME_HEADER),
  }
}
