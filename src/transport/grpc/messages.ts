/**
 * gRPC length-prefixed messages: a compressed-flag byte, a 4-byte big-endian length, then
 * the message. Compression is never sent and refused when received (`grpc-encoding` other
 * than identity is answered UNIMPLEMENTED before any message is read).
 */

const PREFIX = 5

/** One message with its prefix, ready to write. */
export function frameMessage(body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX + body.byteLength)
  frame[0] = 0
  frame.writeUInt32BE(body.byteLength, 1)
  frame.set(body, PREFIX)
  return frame
}

/** Why a message stream cannot be read. */
export class MessageError extends Error {
  /** `size` for a message over the limit (RESOURCE_EXHAUSTED), `protocol` otherwise (INTERNAL). */
  readonly kind: 'size' | 'protocol'
  constructor(kind: 'size' | 'protocol', message: string) {
    super(message)
    this.name = 'MessageError'
    this.kind = kind
  }
}

/**
 * Splits HTTP/2 DATA chunks into messages. A message may span chunks and a chunk may hold
 * several; a message over `maxSize` is refused as soon as its prefix is read, before its
 * bytes are buffered.
 */
export class MessageReader {
  readonly #maxSize: number
  #pending: Buffer | undefined
  /** Length of the message being gathered; -1 while its prefix is incomplete. */
  #need = -1

  constructor(maxSize: number) {
    this.#maxSize = maxSize
  }

  /** Whether a partial message is buffered (the stream ended mid-message when it closes now). */
  get partial(): boolean {
    return this.#need !== -1 || (this.#pending !== undefined && this.#pending.length > 0)
  }

  /** Feed a chunk; `onMessage` gets each complete message. Throws MessageError. */
  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    let buffer = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk])
    this.#pending = undefined
    for (;;) {
      if (this.#need === -1) {
        if (buffer.length < PREFIX) break
        const flag = buffer[0] as number
        if (flag !== 0) {
          throw new MessageError(
            'protocol',
            flag === 1 ? 'compressed messages are not supported' : `bad message flag ${flag}`,
          )
        }
        const length = buffer.readUInt32BE(1)
        if (length > this.#maxSize) {
          throw new MessageError('size', `message of ${length} bytes is over the limit of ${this.#maxSize}`)
        }
        this.#need = length
        buffer = buffer.subarray(PREFIX)
      }
      if (buffer.length < this.#need) break
      const message = buffer.subarray(0, this.#need)
      buffer = buffer.subarray(this.#need)
      this.#need = -1
      onMessage(message)
    }
    if (buffer.length > 0 || this.#need !== -1) this.#pending = buffer
  }
}
