import { createRequire } from 'node:module'
import type { Packr } from 'msgpackr'
import { asBuffer, type Codec } from './codec.js'

let packr: Packr | undefined

/**
 * msgpackr, loaded on first use: most services never speak MessagePack, and loading it
 * up front would add ~20 ms to every start. Plain MessagePack maps (no msgpackr record
 * extension) so other languages can read it.
 */
function packer(): Packr {
  if (packr === undefined) {
    const { Packr } = createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr')
    packr = new Packr({ useRecords: false, mapsAsObjects: true })
  }
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
