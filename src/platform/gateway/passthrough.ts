import type { Codec } from '../../codec/codec.js'
import { Codecs } from '../../codec/codecs.js'

const EMPTY = new Uint8Array(0)

/**
 * A codec that moves bytes already in `contentType` without touching them: the gateway
 * hands its client the request bytes it received and gets the reply bytes back to write
 * out, so a JSON call costs no JSON.parse and no JSON.stringify in the gateway.
 */
function passthrough(contentType: string, aliases: string[] = []): Codec {
  return {
    contentType,
    aliases,
    encode(value: unknown): Uint8Array {
      if (value instanceof Uint8Array) return value
      if (value === undefined) return EMPTY
      throw new TypeError(`the gateway sends ${contentType} bodies as bytes, not ${typeof value}`)
    },
    decode(bytes: Uint8Array): unknown {
      return bytes
    },
  }
}

/** The gateway client's codecs: every content type it forwards passes through as bytes. */
export const passthroughCodecs = new Codecs([
  passthrough('application/json', ['text/json']),
  passthrough('application/msgpack', ['application/x-msgpack', 'application/vnd.msgpack']),
  passthrough('application/octet-stream'),
])
