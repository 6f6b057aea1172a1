import { decodeHeaders, ProtocolError } from '../frame-parser.js'
import { MUX_HEADER_SIZE, MUX_VERSION, type MuxSink } from './mux-frame.js'

/**
 * Hand every frame of one NATS message to `sink`, in order. NATS delivers whole messages,
 * so a frame never spans two; bodies are views into `data`, not copies. Throws
 * ProtocolError at the first malformed frame (the frames before it were delivered).
 */
export function readMuxFrames(data: Uint8Array, sink: MuxSink): void {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const length = buf.length
  let at = 0
  while (at < length) {
    if (length - at < MUX_HEADER_SIZE) throw new ProtocolError('truncated frame header')
    if (buf[at] !== MUX_VERSION) throw new ProtocolError(`unsupported frame version ${buf[at]}`)
    if (buf[at + 3] !== 0) throw new ProtocolError('reserved frame byte is not zero')
    const type = buf[at + 1] as number
    const flags = buf[at + 2] as number
    const id = buf.readUInt32BE(at + 4)
    const headerLength = buf.readUInt32BE(at + 8)
    const bodyLength = buf.readUInt32BE(at + 12)
    const headersAt = at + MUX_HEADER_SIZE
    const bodyAt = headersAt + headerLength
    const end = bodyAt + bodyLength
    if (end > length) throw new ProtocolError('frame runs past the end of the message')
    const headers = headerLength > 0 ? decodeHeaders(buf, headersAt, bodyAt) : undefined
    sink.frame(type, flags, id, headers, buf.subarray(bodyAt, end))
    at = end
  }
}

/** The u32 a Credit or Open frame carries in its body, or -1 when the body is not one. */
export function frameValue(body: Buffer): number {
  return body.length === 4 ? body.readUInt32BE(0) : -1
}
