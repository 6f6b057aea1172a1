import type { IncomingMessage, ServerResponse } from 'node:http'
import { badRequest, MicroError, payloadTooLarge, unsupportedMediaType } from '../../errors/errors.js'

/** The error id of everything the dashboard API raises. */
export const DASHBOARD_ID = 'micro.dashboard'

/** Headers every API answer carries: never cached, never sniffed, never framed. */
const API_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const

/** Send a JSON body with a status (200 by default). */
export function sendJson(
  res: ServerResponse,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...API_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** Send an error as the error JSON `{id, code, detail, status}` with its HTTP status. */
export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  const e = MicroError.from(error, DASHBOARD_ID)
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = e.code >= 400 && e.code <= 599 ? e.code : 500
  sendJson(res, e.toJSON(), status, { 'micro-error': 'true', ...headers })
}

/** How much JSON nesting a body may have: deep enough for any form, too shallow to hurt. */
const MAX_DEPTH = 64

/**
 * The JSON body of a request, at most `limit` bytes, with a JSON content type (415
 * otherwise: a cross-site form cannot send one without a preflight). An empty body is `{}`.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase()
  const length = Number(req.headers['content-length'] ?? 0)
  if (length > limit) throw payloadTooLarge(DASHBOARD_ID, `the body is over ${limit} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw payloadTooLarge(DASHBOARD_ID, `the body is over ${limit} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  if (type !== 'application/json')
    throw unsupportedMediaType(DASHBOARD_ID, 'send the body as application/json')
  const text = Buffer.concat(chunks).toString('utf8')
  if (nesting(text) > MAX_DEPTH)
    throw badRequest(DASHBOARD_ID, `the body nests deeper than ${MAX_DEPTH} levels`)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw badRequest(DASHBOARD_ID, `the body is not JSON: ${(error as Error).message}`)
  }
}

/** The deepest nesting of brackets outside strings, in one pass before parsing. */
function nesting(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) max = Math.max(max, ++depth)
    else if (c === 125 || c === 93) depth--
  }
  return max
}

/** An object body, or a 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(DASHBOARD_ID, 'the body must be a JSON object')
  return body as Record<string, unknown>
}

/** A required string field (non-empty, at most `max` characters), or a 400 naming it. */
export function stringField(body: Record<string, unknown>, name: string, max = 512): string {
  const value = body[name]
  if (typeof value !== 'string' || value === '') throw badRequest(DASHBOARD_ID, `${name} is required`)
  if (value.length > max) throw badRequest(DASHBOARD_ID, `${name} is longer than ${max} characters`)
  return value
}

/** An optional string field, or a 400 when it is there and not a string. */
export function optionalString(body: Record<string, unknown>, name: string, max = 512): string | undefined {
  if (body[name] === undefined || body[name] === null || body[name] === '') return undefined
  return stringField(body, name, max)
}

/** An optional string map (metadata), or a 400. */
export function stringMap(value: unknown, name: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value))
    throw badRequest(DASHBOARD_ID, `${name} must be an object`)
  const out: Record<string, string> = {}
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badRequest(DASHBOARD_ID, `${name}.${key} must be a string`)
    out[key] = v
  }
  return out
}

/** A non-negative integer from a query parameter or a body, within bounds, or a 400. */
export function intParam(value: unknown, name: string, fallback: number, max: number, min = 0): number {
  if (value === undefined || value === null || value === '') return fallback
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw badRequest(DASHBOARD_ID, `${name} must be an integer from ${min} to ${max}`)
  return n
}

/** How much an SSE stream may have queued for a slow reader before events are dropped. */
const SSE_BACKLOG = 1 << 20

/**
 * Start a server-sent event stream. The stream ends (and `signal` aborts) when the client
 * goes away. A comment every 15 s keeps proxies from closing an idle stream. A reader that
 * falls more than 1 MiB behind loses events (counted, and said in a `dropped` event once it
 * catches up) instead of growing this process's memory.
 */
export function startSse(req: IncomingMessage, res: ServerResponse): Sse {
  const controller = new AbortController()
  let dropped = 0
  res.writeHead(200, {
    ...API_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  res.write(': open\n\n')
  const keepAlive = setInterval(() => res.write(': ping\n\n'), 15_000)
  keepAlive.unref()
  const close = () => {
    clearInterval(keepAlive)
    controller.abort()
  }
  req.on('close', close)
  res.on('close', close)
  return {
    signal: controller.signal,
    send(event: string, data: unknown): void {
      if (controller.signal.aborted) return
      if (res.writableLength > SSE_BACKLOG) {
        dropped++
        return
      }
      if (dropped > 0) {
        res.write(`event: dropped\ndata: ${dropped}\n\n`)
        dropped = 0
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    },
    end(): void {
      close()
      res.end()
    },
  }
}

/** One SSE stream, as route handlers get it. */
export interface Sse {
  /** Aborts when the client goes away (or `end` is called). */
  signal: AbortSignal
  /** Send one event (dropped when the reader is too far behind). */
  send(event: string, data: unknown): void
  end(): void
}
