import type { DescMessage, FileRegistry } from '@bufbuild/protobuf'

/**
 * The OTLP trace messages (opentelemetry-proto `trace/v1`, `collector/trace/v1`), as
 * `[field, number, type, repeated?, oneof?]`: a message type by name, or a scalar. Only
 * the wire facts are written here; @bufbuild/protobuf does the decoding. Fields the
 * receiver does not read (deprecated ones, dropped counts) are skipped as unknown.
 */
type FieldSpec = readonly [name: string, number: number, type: string, repeated?: true, oneof?: 'value']

const MESSAGES: Record<string, readonly FieldSpec[]> = {
  ExportTraceServiceRequest: [['resource_spans', 1, 'ResourceSpans', true]],
  ExportTraceServiceResponse: [['partial_success', 1, 'ExportTracePartialSuccess']],
  ExportTracePartialSuccess: [
    ['rejected_spans', 1, 'int64'],
    ['error_message', 2, 'string'],
  ],
  ResourceSpans: [
    ['resource', 1, 'Resource'],
    ['scope_spans', 2, 'ScopeSpans', true],
  ],
  Resource: [['attributes', 1, 'KeyValue', true]],
  ScopeSpans: [
    ['scope', 1, 'InstrumentationScope'],
    ['spans', 2, 'Span', true],
  ],
  InstrumentationScope: [
    ['name', 1, 'string'],
    ['version', 2, 'string'],
  ],
  Span: [
    ['trace_id', 1, 'bytes'],
    ['span_id', 2, 'bytes'],
    ['parent_span_id', 4, 'bytes'],
    ['name', 5, 'string'],
    ['kind', 6, 'int32'],
    ['start_time_unix_nano', 7, 'fixed64'],
    ['end_time_unix_nano', 8, 'fixed64'],
    ['attributes', 9, 'KeyValue', true],
    ['events', 11, 'Event', true],
    ['links', 13, 'Link', true],
    ['status', 15, 'Status'],
  ],
  Event: [
    ['time_unix_nano', 1, 'fixed64'],
    ['name', 2, 'string'],
    ['attributes', 3, 'KeyValue', true],
  ],
  Link: [
    ['trace_id', 1, 'bytes'],
    ['span_id', 2, 'bytes'],
    ['attributes', 4, 'KeyValue', true],
  ],
  Status: [
    ['message', 2, 'string'],
    ['code', 3, 'int32'],
  ],
  KeyValue: [
    ['key', 1, 'string'],
    ['value', 2, 'AnyValue'],
  ],
  AnyValue: [
    ['string_value', 1, 'string', undefined, 'value'],
    ['bool_value', 2, 'bool', undefined, 'value'],
    ['int_value', 3, 'int64', undefined, 'value'],
    ['double_value', 4, 'double', undefined, 'value'],
    ['array_value', 5, 'ArrayValue', undefined, 'value'],
    ['kvlist_value', 6, 'KeyValueList', undefined, 'value'],
    ['bytes_value', 7, 'bytes', undefined, 'value'],
  ],
  ArrayValue: [['values', 1, 'AnyValue', true]],
  KeyValueList: [['values', 1, 'KeyValue', true]],
  // google.rpc.Status, the body of an OTLP/HTTP error reply.
  RpcStatus: [
    ['code', 1, 'int32'],
    ['message', 2, 'string'],
  ],
}

const PACKAGE = 'micro.otlp'

/** The OTLP messages, built once on first use (a service that never gets protobuf loads nothing). */
export interface OtlpProto {
  /** Decode an ExportTraceServiceRequest to its proto3 JSON form (ids base64, int64 as strings). */
  decodeRequest(bytes: Uint8Array): unknown
  /** An ExportTraceServiceResponse, with a partial success when some spans were rejected. */
  encodeResponse(rejected: number, message?: string): Uint8Array
  /** A google.rpc.Status (the body of a 4xx/5xx reply). */
  encodeStatus(code: number, message: string): Uint8Array
}

let loading: Promise<OtlpProto> | undefined

/** The OTLP protobuf codec, loading @bufbuild/protobuf on first call. */
export function otlpProto(): Promise<OtlpProto> {
  loading ??= build()
  return loading
}

async function build(): Promise<OtlpProto> {
  const pb = await import('@bufbuild/protobuf')
  const wkt = await import('@bufbuild/protobuf/wkt')
  const T = wkt.FieldDescriptorProto_Type
  const scalars: Record<string, number> = {
    string: T.STRING,
    bytes: T.BYTES,
    bool: T.BOOL,
    int32: T.INT32,
    int64: T.INT64,
    fixed64: T.FIXED64,
    double: T.DOUBLE,
  }
  const file = pb.create(wkt.FileDescriptorProtoSchema, {
    name: 'micro/otlp.proto',
    package: PACKAGE,
    syntax: 'proto3',
    messageType: Object.entries(MESSAGES).map(([name, fields]) => ({
      name,
      oneofDecl: fields.some((f) => f[4]) ? [{ name: 'value' }] : [],
      field: fields.map(([field, number, type, repeated, oneof]) => {
        const scalar = scalars[type]
        return {
          name: field,
          number,
          jsonName: field.replace(/_(.)/g, (_, c: string) => c.toUpperCase()),
          label: repeated ? wkt.FieldDescriptorProto_Label.REPEATED : wkt.FieldDescriptorProto_Label.OPTIONAL,
          type: scalar ?? T.MESSAGE,
          ...(scalar === undefined ? { typeName: `.${PACKAGE}.${type}` } : {}),
          ...(oneof ? { oneofIndex: 0 } : {}),
        }
      }),
    })),
  })
  const registry: FileRegistry = pb.createFileRegistry(file, () => undefined)
  const message = (name: string): DescMessage => {
    const desc = registry.getMessage(`${PACKAGE}.${name}`)
    if (!desc) throw new Error(`OTLP message ${name} is missing`)
    return desc
  }
  const request = message('ExportTraceServiceRequest')
  const response = message('ExportTraceServiceResponse')
  const status = message('RpcStatus')
  return {
    decodeRequest: (bytes) => pb.toJson(request, pb.fromBinary(request, bytes)),
    encodeResponse(rejected, errorMessage) {
      const partialSuccess = rejected > 0 ? { rejectedSpans: BigInt(rejected), errorMessage } : undefined
      return pb.toBinary(response, pb.create(response, partialSuccess ? { partialSuccess } : {}))
    },
    encodeStatus: (code, text) => pb.toBinary(status, pb.create(status, { code, message: text })),
  }
}
