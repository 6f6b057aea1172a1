import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CorsSettings } from './http-settings.js'

/**
 * Apply CORS to one request. Returns true when it was a preflight and has been answered
 * (204); otherwise the response carries the headers for an allowed origin and the request
 * goes on. A disallowed origin gets no CORS headers, so the browser blocks the response.
 */
export function applyCors(cors: CorsSettings, req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin
  if (!origin) return false
  const any = cors.origins.includes('*')
  const allowed = any || cors.origins.includes(origin)
  res.appendHeader('Vary', 'Origin')
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined
  if (!allowed) {
    if (preflight) {
      res.writeHead(403).end()
      return true
    }
    return false
  }
  res.setHeader('Access-Control-Allow-Origin', any && !cors.credentials ? '*' : origin)
  if (cors.credentials) res.setHeader('Access-Control-Allow-Credentials', 'true')
  if (!preflight) {
    if (cors.expose.length > 0) res.setHeader('Access-Control-Expose-Headers', cors.expose.join(', '))
    return false
  }
  res.setHeader('Access-Control-Allow-Methods', cors.methods.join(', '))
  const asked = req.headers['access-control-request-headers']
  const headers = cors.headers?.join(', ') ?? asked
  if (headers) res.setHeader('Access-Control-Allow-Headers', headers)
  if (cors.maxAge !== undefined) res.setHeader('Access-Control-Max-Age', String(cors.maxAge))
  res.writeHead(204).end()
  return true
}
