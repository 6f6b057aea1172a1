import type { IncomingMessage } from 'node:http'
import { forbidden, type MicroError, unsupportedMediaType } from '../errors/errors.js'

/**
 * Content types a web page can make a browser send to any address without asking first
 * (a CORS "simple" request: no preflight). A service port accepts none of them.
 */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'])

/**
 * Why a request that a web page could have made a browser send is refused, or undefined.
 *
 * - An `Origin` header not on `allowedOrigins` (exact `scheme://host[:port]`, or `*`): 403.
 *   Browsers send `Origin` on every cross-site POST and on same-site ones too; curl and
 *   other languages' clients do not. This also stops DNS rebinding, where the page's own
 *   origin is a foreign name resolving to this machine.
 * - A form, multipart or text/plain body: 415, whatever the origin. The server's codecs
 *   refuse other unknown types with 415 before any handler runs.
 * - No `Content-Type` with an `Origin` (a page can send a body with no type, without a
 *   preflight): 415. Without an `Origin`, no type means JSON, as before (scripts, Go Micro).
 */
export function crossSiteRefusal(
  req: IncomingMessage,
  allowedOrigins: readonly string[],
): MicroError | undefined {
  const origin = req.headers.origin
  if (origin !== undefined && !allowedOrigins.includes(origin) && !allowedOrigins.includes('*')) {
    return forbidden(
      'micro.server',
      `calls from web pages (Origin ${origin.slice(0, 200)}) are refused on a service port: ` +
        'browsers call through the gateway; list trusted origins in MICRO_SERVER_ALLOWED_ORIGINS',
    )
  }
  const type = req.headers['content-type']
  if (type === undefined || type.trim() === '') {
    if (origin === undefined) return undefined
    return unsupportedMediaType('micro.server', 'a request from a web page must name its Content-Type')
  }
  const base = mediaType(type)
  if (!SIMPLE_TYPES.has(base)) return undefined
  return unsupportedMediaType(
    'micro.server',
    `Content-Type ${base} is not accepted (any web page can send it): ` +
      "send a codec's type, e.g. curl -H 'Content-Type: application/json'",
  )
}

/** `Text/Plain; charset=utf-8` → `text/plain`. */
function mediaType(contentType: string): string {
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}
