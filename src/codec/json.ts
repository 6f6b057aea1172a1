import { asBuffer, type Codec } from './codec.js'

const EMPTY = new Uint8Array(0)

/**
 * `application/json`, the default. An empty body decodes as `{}` (curl without `-d`),
 * and `undefined` encodes as an empty body.
 */
export const jsonCodec: Codec = {
  contentType: 'application/json',
  aliases: ['text/json'],
  encode(value: unknown): Uint8Array {
    if (value === undefined) return EMPTY
    return Buffer.from(JSON.stringify(value))
  },
  decode(bytes: Uint8Array): unknown {
    if (bytes.byteLength === 0) return {}
    return JSON.parse(asBuffer(bytes).toString('utf8'))
  },
}
