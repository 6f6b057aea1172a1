import { Packr } from 'msgpackr'
import { asBuffer, type Codec } from './codec.js'

// Plain MessagePack maps (no msgpackr record extension) so other languages can read it.
const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const EMPTY = new Uint8Array(0)

/** `application/msgpack` through msgpackr. An empty body decodes as `{}`. */
export const msgpackCodec: Codec = {
  contentType: 'application/msgpack',
  aliases: ['application/x-msgpack', 'application/vnd.msgpack'],
  encode(value: unknown): Uint8Array {
    if (value === undefined) return EMPTY
    return packr.pack(value)
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) return {}
    return packr.unpack(asBuffer(bytes))
  },
}
