/** What `t.http` sends: an object (as JSON), a string, bytes, or nothing. */
export type HttpBody = unknown

/** An HTTP response as a test sees it. */
export interface TestResponse {
  status: number
  headers: Headers
  /** The body parsed as JSON when the response says it is JSON, else the text. */
  body: unknown
  text: string
}

/** Send one request to a test server and read the whole response. */
export async function httpCall(
  address: string,
  method: string,
  path: string,
  body: HttpBody,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const init: RequestInit = { method: method.toUpperCase(), headers: { ...headers } }
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array) init.body = body
    else {
      init.body = JSON.stringify(body)
      const h = init.headers as Record<string, string>
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
        h['content-type'] = 'application/json'
    }
  }
  const response = await fetch(`${address}${path.startsWith('/') ? path : `/${path}`}`, init)
  const text = await response.text()
  const json = /[/+]json\b/.test(response.headers.get('content-type') ?? '')
  let parsed: unknown = text
  if (json && text !== '') {
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = text
    }
  }
  return { status: response.status, headers: response.headers, body: parsed, text }
}
