/**
 * The frames of the NATS transport's multiplexed path: the micro protocol's frames (same
 * 16-byte header, same header block with well-known keys as one byte, see `../frame.ts`),
 * several of them per NATS message. A few types exist only here, because NATS gives no
 * per-connection backpressure and the client must learn which instance took a stream.
 *
 * | offset | size | field                                   |
 * |--------|------|-----------------------------------------|
 * | 0      | 1    | version, always 1                       |
 * | 1      | 1    | type (MuxFrame)                         |
 * | 2      | 1    | flags (MuxFlag bits)                    |
 * | 3      | 1    | reserved, 0                             |
 * | 4      | 4    | call id, chosen by the client           |
 * | 8      | 4    | header block length                     |
 * | 12     | 4    | body length                             |
 */
export const MUX_VERSION = 1
export const MUX_HEADER_SIZE = 16

export const MuxFrame = {
  /** Client: a call (flags Message|End) or a stream (flag Stream; header micro-window). */
  Request: 1,
  /** One message. Flag End: a unary reply (the call is over). */
  Data: 2,
  /** Half-close of a stream; from the server, the stream succeeded. */
  End: 3,
  /** Server: the call or stream failed; body is the error JSON. Flag Lost: the server went away. */
  Error: 4,
  /** Abandon a call or stream (client), or "no such stream" (either side). */
  Cancel: 5,
  /** Are you there (about one call or stream)? */
  Ping: 6,
  Pong: 7,
  /** Stream window update. Body: u32, the messages the receiver has consumed in total. */
  Credit: 9,
  /** Server: the stream is accepted. Body: u32, the server's window; the message's reply subject is where to send the rest. */
  Open: 10,
} as const
export type MuxFrame = (typeof MuxFrame)[keyof typeof MuxFrame]

export const MuxFlag = {
  /** On Request: a unary call, with its one message. On Data: the unary reply. */
  End: 1,
  Message: 2,
  /** On Request: open a stream. */
  Stream: 4,
  /** On Error: the listener closed while the call ran (the client makes it a lost 503). */
  Lost: 8,
} as const

/** The stream's window, on a stream Request: how many messages the server may send ahead. */
export const WINDOW_HEADER = 'micro-window'

/** Receives the frames of one NATS message. `body` is a view into the received bytes. */
export interface MuxSink {
  frame(
    type: number,
    flags: number,
    id: number,
    headers: Record<string, string> | undefined,
    body: Buffer,
  ): void
}
