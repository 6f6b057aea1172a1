import type { IncomingMessage, ServerResponse } from 'node:http'
import { nestsDeeperThan } from '../../codec/json-depth.js'
import {
  DEFAULT_SPAN_LIMITS,
  type DecodedSpans,
  decodeExportRequest,
  type SpanLimits,
} from './otlp-decode.js'
import { otlpProto } from './otlp-proto.js'
import { RefusedRequest, readRequestBody } from './request-body.js'
import type { TraceStore } from './trace-store.js'

/** Settings of the OTLP/HTTP receiver. */
export interface OtlpReceiverOptions {
  /** The path it answers. Default `/v1/traces` (what OTLP exporters post to). */
  path?: string
  /** Largest body on the wire. Default 4 MiB (413 past it). */
  maxBodyBytes?: number
  /** Largest body once inflated from gzip. Default 16 MiB (413 past it). */
  maxDecodedBytes?: number
  /** Deepest JSON nesting accepted. Default 64 (OTLP needs about 12). */
  maxJsonDepth?: number
  /** Caps on what one span keeps (attributes, events, links, string lengths). */
  spanLimits?: SpanLimits
}

/** A node:http request handler for one path, as the platform server mounts its parts. */
export interface OtlpReceiver {
  /** Answer `req` when it is for the receiver's path (true); otherwise leave it (false). */
  handle(req: IncomingMessage, res: ServerResponse): boolean
}

type Format = 'json' | 'protobuf'

// google.rpc.Code values for the error body.
const INVALID_ARGUMENT = 3
const RESOURCE_EXHAUSTED = 8

/**
 * The OTLP/HTTP trace receiver: `POST /v1/traces` with an ExportTraceServiceRequest as
 * `application/json` or `application/x-protobuf`, optionally gzip-compressed. Answers 200
 * with an ExportTraceServiceResponse in the request's format (a partial success names the
 * spans refused), 400 for a body that is not one, 413 past the size limits, 415 for other
 * content types or encodings, 405 for other methods. Nothing a client sends takes the
 * process down; every refusal is answered and the next request is served.
 */
export function createOtlpReceiver(store: TraceStore, options: OtlpReceiverOptions = {}): OtlpReceiver {
  const path = options.path ?? '/v1/traces'
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024
  const maxDecoded = options.maxDecodedBytes ?? 16 * 1024 * 1024
  const maxDepth = options.maxJsonDepth ?? 64
  const limits = options.spanLimits ?? DEFAULT_SPAN_LIMITS

  const receive = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const format = formatOf(req.headers['content-type'])
    try {
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST')
        throw new RefusedRequest(405, `${req.method} is not allowed: POST an ExportTraceServiceRequest`)
      }
      if (!format) {
        throw new RefusedRequest(415, 'send application/json or application/x-protobuf')
      }
      const body = await readRequestBody(req, maxBody, maxDecoded)
      const decoded = await decode(body, format, maxDepth, limits)
      store.add(decoded.spans)
      await reply(res, 200, format ?? 'json', decoded)
    } catch (error) {
      const refused =
        error instanceof RefusedRequest
          ? error
          : new RefusedRequest(400, 'the body is not an ExportTraceServiceRequest')
      await replyError(req, res, refused, format ?? 'json')
    }
  }

  return {
    handle(req, res) {
      if (pathOf(req.url) !== path) return false
      void receive(req, res)
      return true
    },
  }
}

async function decode(
  body: Buffer,
  format: Format,
  maxDepth: number,
  limits: SpanLimits,
): Promise<DecodedSpans> {
  if (format === 'json') {
    if (nestsDeeperThan(body, maxDepth))
      throw new RefusedRequest(400, `the JSON nests deeper than ${maxDepth} levels`)
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch {
      throw new RefusedRequest(400, 'the body is not valid JSON')
    }
    return decodeExportRequest(parsed, 'hex', limits)
  }
  const proto = await otlpProto()
  let message: unknown
  try {
    message = proto.decodeRequest(body)
  } catch {
    // Includes a stack overflow on absurdly nested values: a RangeError, caught like any other.
    throw new RefusedRequest(400, 'the body is not a protobuf ExportTraceServiceRequest')
  }
  return decodeExportRequest(message, 'base64', limits)
}

async function reply(
  res: ServerResponse,
  status: number,
  format: Format,
  decoded: DecodedSpans,
): Promise<void> {
  const message = decoded.rejected > 0 ? `${decoded.rejected} spans refused: ${decoded.reason}` : undefined
  if (format === 'protobuf') {
    const body = (await otlpProto()).encodeResponse(decoded.rejected, message)
    send(res, status, 'application/x-protobuf', body)
    return
  }
  const partial =
    decoded.rejected > 0
      ? { partialSuccess: { rejectedSpans: String(decoded.rejected), errorMessage: message } }
      : {}
  send(res, status, 'application/json', Buffer.from(JSON.stringify(partial)))
}

async function replyError(
  req: IncomingMessage,
  res: ServerResponse,
  refused: RefusedRequest,
  format: Format,
) {
  if (res.headersSent) return
  const code = refused.status === 413 ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT
  let body: Uint8Array = Buffer.from(JSON.stringify({ code, message: refused.message }))
  let type = 'application/json'
  if (format === 'protobuf') {
    try {
      body = (await otlpProto()).encodeStatus(code, refused.message)
      type = 'application/x-protobuf'
    } catch {
      // The codec could not load: the JSON body still says why.
    }
  }
  // The rest of a refused body is never read: node closes the connection after this reply.
  if (!req.complete) res.setHeader('connection', 'close')
  send(res, refused.status, type, body)
}

function send(res: ServerResponse, status: number, type: string, body: Uint8Array): void {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store' })
  res.end(body)
}

function formatOf(header: string | undefined): Format | undefined {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase()
  if (type === 'application/json') return 'json'
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf'
  return undefined
}

function pathOf(url: string | undefined): string {
  const path = (url ?? '/').split('?', 1)[0] as string
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}
