/**
 * Codecs chosen by Content-Type: JSON (default), MessagePack, raw bytes, or your own.
 * @module micro-ts/codec
 */
export { asBuffer, type Codec } from './codec.js'
export { Codecs, DEFAULT_CONTENT_TYPE, defaultCodecs } from './codecs.js'
export { createJsonCodec, DEFAULT_MAX_JSON_DEPTH, type JsonCodecOptions, jsonCodec } from './json.js'
export { nestsDeeperThan } from './json-depth.js'
export { msgpackCodec } from './msgpack.js'
export { rawCodec } from './raw.js'
