import type { Packr } from 'msgpackr'
import { lazyRequire } from '../util/lazy-require.js'
import { asBuffer, type Codec } from './codec.js'

// msgpackr is loaded on first use: most services never speak MessagePack.
const msgpackr = lazyRequire<typeof import('msgpackr')>('msgpackr')
let packr: Packr | undefined

/** Plain MessagePack maps (no msgpackr record extension), so other languages can read it. */
function packer(): Packr {
  packr ??= new (msgpackr().Packr)({ useRecords: false, mapsAsObjects: true })
  return packr
}
const EMPTY = new Uint8Array(0)

/** `application/msgpack` through msgpackr. An empty body decodes as `{}`. */
export const msgpackCodec: Codec = {
  contentType: 'application/msgpack',
  aliases: ['application/x-msgpack', 'application/vnd.msgpack'],
  encode(value: unknown): Uint8Array {
    if (value === undefined) return EMPTY
    return packer().pack(value)
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) return {}
    return packer().unpack(asBuffer(bytes))
  },
}
