import type { Codec } from '../codec/codec.js'
import { Codecs } from '../codec/codecs.js'
import { DEFAULT_MAX_JSON_DEPTH } from '../codec/json.js'
import { nestsDeeperThan } from '../codec/json-depth.js'
import { msgpackCodec } from '../codec/msgpack.js'

/**
 * Bodies cross the sidecar as bytes: the app's JSON is never parsed and written again on
 * the way through, as the gateway does it. These are the codecs that make that so.
 */

export const JSON_TYPE = 'application/json'
export const MSGPACK_TYPE = 'application/msgpack'
export const OCTET_TYPE = 'application/octet-stream'

const EMPTY = new Uint8Array(0)

/** `Application/JSON; charset=utf-8` → `application/json`; undefined stays undefined. */
export function baseType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

/** Whether a content type is JSON (`application/json`, `text/json`, `application/problem+json` ...). */
export function isJsonType(contentType: string | undefined): boolean {
  const base = baseType(contentType)
  return (
    base === undefined || base === '' || base === JSON_TYPE || base === 'text/json' || base.endsWith('+json')
  )
}

/** The canonical type of a body the sidecar takes, or undefined for one it does not. */
export function acceptedType(contentType: string | undefined): string | undefined {
  const base = baseType(contentType)
  if (isJsonType(base)) return JSON_TYPE
  if (base === MSGPACK_TYPE || base === 'application/x-msgpack' || base === 'application/vnd.msgpack') {
    return MSGPACK_TYPE
  }
  if (base === OCTET_TYPE) return OCTET_TYPE
  return undefined
}

/** Bytes as they are, both ways (the outbound call's codec: the app's bytes go out, the reply's come back). */
function passthrough(contentType: string, aliases: string[] = []): Codec {
  return {
    contentType,
    aliases,
    encode: (value) => (value instanceof Uint8Array ? value : value === undefined ? EMPTY : jsonBytes(value)),
    decode: (bytes) => bytes,
  }
}

const passthroughs = new Map<string, Codec>([
  [JSON_TYPE, passthrough(JSON_TYPE, ['text/json'])],
  [MSGPACK_TYPE, passthrough(MSGPACK_TYPE)],
  [OCTET_TYPE, passthrough(OCTET_TYPE)],
])

/** The codec an outbound call of this (accepted) content type uses. */
export function passthroughCodec(contentType: string): Codec {
  return passthroughs.get(contentType) ?? (passthroughs.get(JSON_TYPE) as Codec)
}

/**
 * The codecs of the endpoints the sidecar serves for the app. JSON passes through (its
 * depth checked, as every service port does, so the app never parses a nesting bomb);
 * MessagePack is turned into JSON for the app and the app's JSON reply back into
 * MessagePack; raw bytes pass through.
 */
export const inboundCodecs = new Codecs([
  {
    contentType: JSON_TYPE,
    aliases: ['text/json'],
    encode: (value) => (value instanceof Uint8Array ? value : value === undefined ? EMPTY : jsonBytes(value)),
    decode(bytes) {
      if (bytes.byteLength > DEFAULT_MAX_JSON_DEPTH && nestsDeeperThan(bytes, DEFAULT_MAX_JSON_DEPTH)) {
        throw new SyntaxError(`JSON nested deeper than ${DEFAULT_MAX_JSON_DEPTH} levels`)
      }
      return bytes
    },
  },
  {
    contentType: MSGPACK_TYPE,
    aliases: ['application/x-msgpack', 'application/vnd.msgpack'],
    encode(value) {
      if (!(value instanceof Uint8Array)) return msgpackCodec.encode(value)
      return msgpackCodec.encode(
        value.byteLength === 0 ? undefined : JSON.parse(Buffer.from(value).toString('utf8')),
      )
    },
    decode: (bytes) => jsonBytes(msgpackCodec.decode(bytes)),
  },
  passthrough(OCTET_TYPE),
])

function jsonBytes(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value) ?? 'null')
}
