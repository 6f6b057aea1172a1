import type { ServerResponse } from 'node:http'
import type { MicroError } from '../../errors/errors.js'

const JSON_TYPE = 'application/json'

/** The HTTP status for an error code: the code itself when it is 4xx/5xx, else 500. */
export function httpStatusOf(code: number): number {
  return code >= 400 && code <= 599 ? code : 500
}

/** Answer with a JSON body (already encoded) and a status. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string | Uint8Array,
  headers?: Record<string, string | number>,
): void {
  if (res.headersSent || res.destroyed) return
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
  res.writeHead(status, { ...headers, 'content-type': JSON_TYPE, 'content-length': length })
  res.end(body)
}

/**
 * Answer with an error: the status is the error's code, the body its JSON
 * (`{id, code, detail, status}`). A response already under way is cut off instead, so a
 * client never takes half a reply for a whole one.
 */
export function sendError(res: ServerResponse, error: MicroError, headers?: Record<string, string>): void {
  if (res.destroyed) return
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, httpStatusOf(error.code), JSON.stringify(error), headers)
}
