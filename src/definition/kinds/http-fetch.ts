import { once } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { payloadTooLarge } from '../../errors/errors.js'
import type { FetchHandler } from '../define.js'

/** Read a request body, failing with a 413 as soon as it passes `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number, service: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > limit) throw tooLarge(service, limit)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** The 413 for a body over the limit. */
export function tooLarge(service: string, limit: number) {
  return payloadTooLarge(service, `the request body is larger than the limit of ${limit} bytes (body_limit)`)
}

/**
 * Serve one request with a fetch-style handler: build a `Request` (the path relative to
 * the base path, the body already read), call the handler, and stream its `Response` back.
 */
export async function serveFetch(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  body: Buffer | undefined,
  signal: AbortSignal,
): Promise<void> {
  const headers = new Headers()
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
  }
  const method = req.method ?? 'GET'
  const request = new Request(`http://${req.headers.host ?? 'localhost'}${path}`, {
    method,
    headers,
    body: body !== undefined && method !== 'GET' && method !== 'HEAD' ? body : undefined,
    signal,
  })
  const response = await handler(request)
  // The handler timeout may have answered already.
  if (res.headersSent || res.destroyed) return
  if (!(response instanceof Response)) {
    throw new TypeError(`the http handler must return a Response, not ${typeof response}`)
  }
  res.statusCode = response.status
  if (response.statusText) res.statusMessage = response.statusText
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') res.setHeader(key, value)
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  if (response.body === null || method === 'HEAD') {
    res.end()
    return
  }
  for await (const chunk of response.body) {
    if (res.destroyed) break
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')])
  }
  res.end()
}
