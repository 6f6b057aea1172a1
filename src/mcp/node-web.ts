import type { IncomingMessage, ServerResponse } from 'node:http'

// The SDK serves web-standard Request/Response; the platform serves node:http. These two
// functions are the whole bridge (the SDK's own Node adapter would bring Hono along).

/** A web Request for a node request whose body (if any) was read already. */
export function webRequest(req: IncomingMessage, body: Buffer | undefined, signal: AbortSignal): Request {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    if (Array.isArray(value)) for (const item of value) headers.append(name, item)
    else headers.set(name, value)
  }
  // The path only: the host was checked before, and a URL in the request line is not followed.
  const path = (req.url ?? '/').startsWith('/') ? (req.url as string) : '/'
  const url = new URL(path, 'http://mcp.local')
  const withBody = body !== undefined && req.method !== 'GET' && req.method !== 'HEAD'
  return new Request(url, {
    method: req.method ?? 'GET',
    headers,
    body: withBody ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : undefined,
    signal,
  })
}

/**
 * Write a web Response to a node response: status, headers, then the body as it comes (SSE
 * streams stay open until the SDK ends them or the client goes), with backpressure. A client
 * that goes away cancels the body.
 */
export async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {}
  response.headers.forEach((value, name) => {
    headers[name] = value
  })
  res.writeHead(response.status, headers)
  if (response.body === null) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  const cancel = () => void reader.cancel().catch(() => {})
  res.once('close', cancel)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (res.destroyed) break
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go)
            res.off('close', go)
            resolve()
          }
          res.on('drain', go)
          res.on('close', go)
        })
      }
    }
  } catch {
    // The body failed or was canceled: nothing more to send.
  } finally {
    res.off('close', cancel)
    if (!res.destroyed) res.end()
  }
}
