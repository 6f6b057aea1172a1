import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { badRequest, forbidden, MicroError, methodNotAllowed, unauthorized } from '../errors/errors.js'
import { readBody } from '../platform/http/body.js'
import { sendError } from '../platform/http/reply.js'
import { crossSiteRefusal } from '../transport/http-cross-site.js'

/** The id errors of the sidecar's own API carry. */
export const API_ID = 'micro.sidecar'

/** One request to the sidecar's API, its path split and decoded. */
export interface ApiRequest {
  req: IncomingMessage
  res: ServerResponse
  method: string
  /** Decoded path segments after `/v1/<area>/`. */
  segments: string[]
  query: URLSearchParams
}

/** Reply bytes with a content type (and extra headers). */
export function sendBytes(
  res: ServerResponse,
  status: number,
  body: Uint8Array,
  contentType: string,
  headers?: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': body.byteLength })
  res.end(body)
}

/** 204 with headers. */
export function sendEmpty(res: ServerResponse, headers?: Record<string, string>, status = 204): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, headers)
  res.end()
}

/** Answer a failure: a MicroError keeps its code as the status; anything else is a 500 without its stack. */
export function sendFailure(res: ServerResponse, error: unknown): void {
  const e = MicroError.from(error, API_ID)
  // A body the client never finished sending is not read to its end: close the connection.
  sendError(res, e, e.code === 413 ? { connection: 'close' } : undefined)
}

/** Read the body up to `max` bytes (413 past it). */
export function bodyOf(req: IncomingMessage, max: number): Promise<Buffer> {
  return readBody(req, max, API_ID)
}

/** A 405 naming the methods a path takes. */
export function wrongMethod(res: ServerResponse, method: string, allowed: string): void {
  sendError(res, methodNotAllowed(API_ID, `${method} is not served here; use ${allowed}`), { allow: allowed })
}

/** The path's segments, decoded; a malformed %-escape is a 400. */
export function splitPath(path: string): string[] {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s))
  } catch {
    throw badRequest(API_ID, 'the path has a malformed %-escape')
  }
}

/**
 * Why a request may not use the API at all, or undefined. On a loopback bind the Host must
 * be a loopback name (a web page that rebinds its own name to 127.0.0.1 sends its name);
 * pages are refused by Origin and by form content types, as on every service port; and
 * when an API token is set, every path but the health checks needs it in `Micro-Api-Token`.
 */
export function refusal(
  req: IncomingMessage,
  path: string,
  loopback: boolean,
  token: Buffer | undefined,
): MicroError | undefined {
  if (loopback && !loopbackHost(req.headers.host)) {
    return forbidden(API_ID, 'the sidecar answers only requests addressed to 127.0.0.1, [::1] or localhost')
  }
  const crossSite = crossSiteRefusal(req, [])
  if (crossSite)
    return new MicroError(API_ID, crossSite.detail.replace('a service port', 'the sidecar'), crossSite.code)
  if (token !== undefined && !path.startsWith('/v1/healthz') && !path.startsWith('/v1.0/healthz')) {
    const given = req.headers['micro-api-token']
    const bytes = typeof given === 'string' ? Buffer.from(given) : undefined
    if (bytes === undefined || bytes.length !== token.length || !timingSafeEqual(bytes, token)) {
      return unauthorized(API_ID, 'this sidecar needs its API token in the Micro-Api-Token header')
    }
  }
  return undefined
}

function loopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')
  const lower = name.toLowerCase()
  return lower === 'localhost' || lower === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(lower)
}
