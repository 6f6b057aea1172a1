import { asBuffer, type Codec } from './codec.js'
import { nestsDeeperThan } from './json-depth.js'

const EMPTY = new Uint8Array(0)

/** How deep JSON may nest by default: far beyond any real message. */
export const DEFAULT_MAX_JSON_DEPTH = 128

/** Options of {@link createJsonCodec}. */
export interface JsonCodecOptions {
  /** Objects and arrays nested deeper than this are refused before parsing. Default 128; Infinity for none. */
  maxDepth?: number
}

/**
 * An `application/json` codec. An empty body decodes as `{}` (curl without `-d`), and
 * `undefined` encodes as an empty body. Text nested deeper than `maxDepth` is refused
 * with a SyntaxError (a 400 to a caller) before `JSON.parse` sees it.
 */
export function createJsonCodec(options: JsonCodecOptions = {}): Codec {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_JSON_DEPTH
  return {
    contentType: 'application/json',
    aliases: ['text/json'],
    encode(value: unknown): Uint8Array {
      if (value === undefined) return EMPTY
      return Buffer.from(JSON.stringify(value))
    },
    decode(bytes: Uint8Array): unknown {
      if (bytes.byteLength === 0) return {}
      if (nestsDeeperThan(bytes, maxDepth))
        throw new SyntaxError(`JSON nested deeper than ${maxDepth} levels`)
      return JSON.parse(asBuffer(bytes).toString('utf8'))
    },
  }
}

/** `application/json`, the default, with the default depth limit. */
export const jsonCodec: Codec = createJsonCodec()
