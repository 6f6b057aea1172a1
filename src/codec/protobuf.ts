import {
  create,
  type DescMessage,
  fromBinary,
  fromJsonString,
  isMessage,
  type JsonReadOptions,
  type JsonWriteOptions,
  type MessageShape,
  toBinary,
  toJsonString,
} from '@bufbuild/protobuf'
import type { Codec } from './codec.js'

/** The content type of protobuf bodies (Go Micro's `application/protobuf`). */
export const PROTOBUF_CONTENT_TYPE = 'application/protobuf'

/**
 * A value as a message of `schema`: a message of that type as it is, anything else (a
 * plain object with the fields, as handlers and callers often write) made into one.
 */
export function toMessage<Desc extends DescMessage>(schema: Desc, value: unknown): MessageShape<Desc> {
  if (isMessage(value, schema)) return value as MessageShape<Desc>
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `expected a ${schema.typeName} message, got ${value === null ? 'null' : typeof value}`,
    )
  }
  return create(schema, value as never) as MessageShape<Desc>
}

/**
 * `application/protobuf` for messages described by `@bufbuild/protobuf` (what `protoc-gen-es`
 * / `micro gen proto` generate). A codec encodes one type and decodes one type: the same for
 * broker and event payloads (`protobufCodec(OrderSchema)`), the request and reply types of a
 * method for calls (client: encode the input, decode the output; server: the reverse).
 *
 * ```ts
 * await client.publish('orders', order, { codec: protobufCodec(OrderSchema) })
 * await service.subscribe('orders', handle, { codec: protobufCodec(OrderSchema) })
 * ```
 */
export function protobufCodec<Out extends DescMessage, In extends DescMessage = Out>(
  encodes: Out,
  decodes?: In,
): Codec {
  const decodeSchema: DescMessage = decodes ?? encodes
  return {
    contentType: PROTOBUF_CONTENT_TYPE,
    aliases: ['application/x-protobuf', 'application/proto'],
    encode: (value) => toBinary(encodes, toMessage(encodes, value)),
    decode: (bytes) => fromBinary(decodeSchema, bytes),
  }
}

/**
 * `application/json` with protobuf's JSON mapping (lowerCamelCase names, 64-bit integers as
 * strings, enums by name, well-known types as their JSON forms), for the same messages: what
 * `micro call`, curl and the gateway send to a protobuf endpoint. Unknown fields are refused.
 */
export function protobufJsonCodec<Out extends DescMessage, In extends DescMessage = Out>(
  encodes: Out,
  decodes?: In,
  options: { read?: Partial<JsonReadOptions>; write?: Partial<JsonWriteOptions> } = {},
): Codec {
  const decodeSchema: DescMessage = decodes ?? encodes
  return {
    contentType: 'application/json',
    aliases: ['text/json'],
    encode: (value) => Buffer.from(toJsonString(encodes, toMessage(encodes, value), options.write)),
    decode: (bytes) =>
      bytes.byteLength === 0
        ? create(decodeSchema)
        : fromJsonString(
            decodeSchema,
            Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'),
            options.read,
          ),
  }
}
