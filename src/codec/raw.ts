import { asBuffer, type Codec } from './codec.js'

/**
 * `application/octet-stream`: the body is the value. Handlers receive a Buffer and may
 * return a Uint8Array or a string.
 */
export const rawCodec: Codec = {
  contentType: 'application/octet-stream',
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return value
    if (typeof value === 'string') return Buffer.from(value)
    if (value === undefined || value === null) return new Uint8Array(0)
    throw new TypeError(`application/octet-stream needs a Uint8Array or string, got ${typeof value}`)
  },
  decode(bytes: Uint8Array): unknown {
    return asBuffer(bytes)
  },
}
