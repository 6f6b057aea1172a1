import { MicroError } from '../../errors/errors.js'
import type { Headers } from '../frame.js'

/**
 * gRPC status codes (grpc/doc/statuscodes.md). A closed set: there are no user codes.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const

/** Micro (HTTP-style) codes by gRPC status, for errors from servers that send no `micro-error`. */
const MICRO_CODE_BY_STATUS = [
  200, 499, 500, 400, 408, 404, 409, 403, 429, 412, 409, 400, 501, 500, 503, 500, 401,
] as const

/**
 * The gRPC status for a micro error code. Deadlines are 408 in micro and DEADLINE_EXCEEDED
 * in gRPC; 429 and 413 are RESOURCE_EXHAUSTED; a draining or unreachable node (503) is
 * UNAVAILABLE, the status gRPC clients retry.
 */
export function grpcStatusOf(code: number): number {
  switch (code) {
    case 400:
    case 415:
      return GrpcStatus.INVALID_ARGUMENT
    case 401:
      return GrpcStatus.UNAUTHENTICATED
    case 403:
      return GrpcStatus.PERMISSION_DENIED
    case 404:
      return GrpcStatus.NOT_FOUND
    case 405:
    case 501:
      return GrpcStatus.UNIMPLEMENTED
    case 408:
    case 504:
      return GrpcStatus.DEADLINE_EXCEEDED
    case 409:
      return GrpcStatus.ABORTED
    case 412:
      return GrpcStatus.FAILED_PRECONDITION
    case 413:
    case 429:
      return GrpcStatus.RESOURCE_EXHAUSTED
    case 499:
      return GrpcStatus.CANCELLED
    case 502:
    case 503:
      return GrpcStatus.UNAVAILABLE
    default:
      if (code >= 400 && code < 500) return GrpcStatus.FAILED_PRECONDITION
      if (code >= 500 && code < 600) return GrpcStatus.INTERNAL
      return GrpcStatus.UNKNOWN
  }
}

/** The micro error code for a gRPC status (OK excluded). Unknown statuses are 500. */
export function microCodeOf(status: number): number {
  return MICRO_CODE_BY_STATUS[status] ?? 500
}

/** Trailer carrying the whole `{id, code, detail, status}` so micro clients get it back exactly. */
export const MICRO_ERROR_TRAILER = 'micro-error'

/**
 * The MicroError a gRPC failure stands for: the `micro-error` trailer when a micro-ts
 * server sent one, else the status mapped to a code with `grpc-message` as the detail.
 */
export function errorFromStatus(
  status: number,
  message: string | undefined,
  microError?: string,
): MicroError {
  if (microError) {
    const parsed = MicroError.parse(decodeGrpcMessage(microError), 'micro.client')
    if (parsed.code !== 500 || parsed.id !== 'micro.client') return parsed
  }
  return new MicroError(
    'grpc',
    decodeGrpcMessage(message ?? '') || `gRPC status ${status}`,
    microCodeOf(status),
  )
}

/** gRPC content subtypes and the micro content types (codecs) they carry. */
const SUBTYPES: Readonly<Record<string, string>> = {
  '': 'application/protobuf',
  proto: 'application/protobuf',
  json: 'application/json',
  msgpack: 'application/msgpack',
}

const GRPC_TYPE_BY_MICRO: Readonly<Record<string, string>> = {
  'application/protobuf': 'application/grpc+proto',
  'application/json': 'application/grpc+json',
  'application/msgpack': 'application/grpc+msgpack',
}

/**
 * The micro content type a gRPC `content-type` carries: `application/grpc` and `+proto`
 * are protobuf, `+json` JSON, `+msgpack` MessagePack. Undefined for anything else
 * (not gRPC, or a subtype no codec here speaks).
 */
export function microContentType(grpcType: string | undefined): string | undefined {
  if (grpcType === undefined) return undefined
  const semi = grpcType.indexOf(';')
  const base = (semi === -1 ? grpcType : grpcType.slice(0, semi)).trim().toLowerCase()
  if (base === 'application/grpc') return SUBTYPES['']
  if (!base.startsWith('application/grpc+')) return undefined
  return SUBTYPES[base.slice('application/grpc+'.length)]
}

/** The gRPC `content-type` for a call encoded with a micro content type (JSON when none). */
export function grpcContentType(microType: string | undefined): string {
  if (microType === undefined) return 'application/grpc+json'
  return GRPC_TYPE_BY_MICRO[microType] ?? GRPC_TYPE_BY_MICRO[normalise(microType)] ?? 'application/grpc+json'
}

function normalise(contentType: string): string {
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

const TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
}

/** Milliseconds of a `grpc-timeout` header (`100m`, `5S`, ...); undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value.length < 2 || value.length > 9) return undefined
  const unit = TIMEOUT_UNIT_MS[value[value.length - 1] as string]
  const digits = value.slice(0, -1)
  if (unit === undefined || !/^\d{1,8}$/.test(digits)) return undefined
  return Number(digits) * unit
}

/** A `grpc-timeout` value for `ms` milliseconds (at most 8 digits, as the spec says). */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms))
  if (whole < 100_000_000) return `${whole}m`
  const seconds = Math.ceil(whole / 1000)
  return seconds < 100_000_000 ? `${seconds}S` : `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`
}

/** Percent-encode a `grpc-message` (and `micro-error`) value: printable ASCII except `%` stays. */
export function encodeGrpcMessage(text: string): string {
  let plain = true
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false
      break
    }
  }
  if (plain) return text
  let out = ''
  for (const byte of Buffer.from(text, 'utf8')) {
    out +=
      byte < 0x20 || byte > 0x7e || byte === 0x25
        ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte)
  }
  return out
}

/** Undo `encodeGrpcMessage`; malformed escapes are kept as they are. */
export function decodeGrpcMessage(text: string): string {
  if (!text.includes('%')) return text
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x25 && i + 2 < text.length && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else {
      bytes.push(...Buffer.from(text[i] as string, 'utf8'))
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/**
 * Request headers that belong to HTTP/2 or gRPC itself and are not call metadata
 * (`grpc-` is reserved by the spec). Pseudo-headers (`:path`) are skipped by their colon.
 */
const PROTOCOL_HEADERS: ReadonlySet<string> = new Set([
  'te',
  'content-type',
  'grpc-timeout',
  'grpc-encoding',
  'grpc-accept-encoding',
  'grpc-message-type',
  'grpc-status',
  'grpc-message',
  'grpc-status-details-bin',
  'user-agent',
  'grpc-previous-rpc-attempts',
])

/**
 * Call metadata from HTTP/2 request headers: every header but pseudo and protocol ones,
 * keys lower-case (HTTP/2 requires it), repeated values joined with `, `; `content-type`
 * is the micro content type the body is in.
 */
export function metadataFromHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  contentType: string,
): Headers {
  const metadata: Headers = { 'content-type': contentType }
  for (const key in headers) {
    if (key.charCodeAt(0) === 0x3a || PROTOCOL_HEADERS.has(key) || key === '__proto__') continue
    const value = headers[key]
    if (value === undefined) continue
    metadata[key] = Array.isArray(value) ? value.join(', ') : value
  }
  return metadata
}

/** Whether a metadata key may go out as an HTTP/2 header (lower-case token, not reserved). */
export function isSendableMetadata(key: string): boolean {
  return !PROTOCOL_HEADERS.has(key) && /^[0-9a-z_.-]+$/.test(key) && !key.startsWith('grpc-')
}

/** The micro endpoint (`Greeter.SayHello`) a gRPC path names (`/helloworld.Greeter/SayHello`). */
export function endpointOfPath(path: string | undefined): string | undefined {
  if (path === undefined || path.charCodeAt(0) !== 0x2f) return undefined
  const slash = path.indexOf('/', 1)
  if (slash === -1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return undefined
  const service = path.slice(1, slash)
  const method = path.slice(slash + 1)
  const handler = service.slice(service.lastIndexOf('.') + 1)
  if (!IDENTIFIER.test(handler) || !IDENTIFIER.test(method)) return undefined
  return `${handler}.${method}`
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** The gRPC path micro-ts clients call an endpoint on: `/Greeter/SayHello` (servers here ignore the package). */
export function pathOfEndpoint(endpoint: string): string {
  const dot = endpoint.lastIndexOf('.')
  return dot === -1 ? `/${endpoint}` : `/${endpoint.slice(0, dot)}/${endpoint.slice(dot + 1)}`
}
