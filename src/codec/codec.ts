/**
 * A codec turns a value into body bytes and back, chosen by the request's Content-Type.
 * Implementations must be stateless: one instance serves every call at once.
 */
export interface Codec {
  /** The canonical content type, e.g. `application/json`. */
  readonly contentType: string
  /** Other content types this codec answers to, lower-case, without parameters. */
  readonly aliases?: readonly string[]
  /** Encode a value to body bytes. */
  encode(value: unknown): Uint8Array
  /** Decode body bytes; throws on malformed input (the server turns that into a 400). */
  decode(bytes: Uint8Array): unknown
}

/** A Uint8Array viewed as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
