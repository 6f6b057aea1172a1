/**
 * The fixed part of a generated TypeScript client: errors, options and the fetch
 * transport (JSON calls and Server-Sent Events streams through the gateway's
 * `POST /api/{service}/{Handler.Method}`). `__BASE_URL__` is replaced by the default
 * gateway address. Kept as text: it is written into the user's project, not run here.
 */
export const CLIENT_RUNTIME = `/** The error JSON every failed call answers with. */
export interface MicroErrorJson {
  id: string
  code: number
  detail: string
  status: string
}

/** A failed call: the service's (or the gateway's) error, with its HTTP-style code. */
export class MicroApiError extends Error implements MicroErrorJson {
  readonly id: string
  readonly code: number
  readonly detail: string
  readonly status: string

  constructor(error: MicroErrorJson) {
    super(error.detail)
    this.name = 'MicroApiError'
    this.id = error.id
    this.code = error.code
    this.detail = error.detail
    this.status = error.status
  }
}

export interface ClientOptions {
  /** The gateway. Default: the address the client was generated for. */
  baseUrl?: string
  /** Headers sent with every call, e.g. { authorization: 'Bearer <token>' }. */
  headers?: Record<string, string>
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch
}

export interface CallOptions {
  /** Cancels the call (or closes the stream). */
  signal?: AbortSignal
  /** The call's deadline, ms (sent as Micro-Timeout). */
  timeout?: number
  /** Extra headers for this call. */
  headers?: Record<string, string>
}

const DEFAULT_BASE_URL = __BASE_URL__

class Transport {
  readonly #base: string
  readonly #headers: Record<string, string>
  readonly #fetch: typeof fetch

  constructor(options: ClientOptions) {
    this.#base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\\/+$/, '')
    this.#headers = options.headers ?? {}
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init))
  }

  async call<Res>(service: string, endpoint: string, request: unknown, options: CallOptions = {}): Promise<Res> {
    const response = await this.#post(service, endpoint, request, options, 'application/json')
    const text = await response.text()
    if (!response.ok) throw toError(response.status, text)
    return (text === '' ? undefined : JSON.parse(text)) as Res
  }

  async *stream<Res>(service: string, endpoint: string, request: unknown, options: CallOptions = {}): AsyncIterable<Res> {
    const response = await this.#post(service, endpoint, request, options, 'text/event-stream')
    if (!response.ok || !response.body) throw toError(response.status, await response.text())
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true }).replace(/\\r\\n?/g, '\\n')
        for (let end = buffer.indexOf('\\n\\n'); end >= 0; end = buffer.indexOf('\\n\\n')) {
          const event = parseEvent(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
          if (event.type === 'end') return
          if (event.type === 'error') throw toError(500, event.data)
          if (event.data !== '') yield JSON.parse(event.data) as Res
        }
      }
    } finally {
      await reader.cancel().catch(() => {})
    }
  }

  #post(service: string, endpoint: string, request: unknown, options: CallOptions, accept: string) {
    const headers: Record<string, string> = {
      ...this.#headers,
      ...options.headers,
      'content-type': 'application/json',
      accept,
    }
    if (options.timeout !== undefined) headers['micro-timeout'] = String(options.timeout)
    const path = \`/api/\${encodeURIComponent(service)}/\${encodeURIComponent(endpoint)}\`
    return this.#fetch(this.#base + path, {
      method: 'POST',
      headers,
      body: JSON.stringify(request ?? {}),
      signal: options.signal ?? null,
    })
  }
}

function parseEvent(block: string): { type: string; data: string } {
  let type = 'message'
  const data: string[] = []
  for (const line of block.split('\\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
  }
  return { type, data: data.join('\\n') }
}

/** The error JSON of a reply, or one made from its status when the body is not one. */
function toError(status: number, text: string): MicroApiError {
  try {
    const body = JSON.parse(text) as Partial<MicroErrorJson>
    if (body && typeof body.detail === 'string' && typeof body.code === 'number') {
      return new MicroApiError({
        id: String(body.id ?? 'micro.client'),
        code: body.code,
        detail: body.detail,
        status: String(body.status ?? ''),
      })
    }
  } catch {}
  return new MicroApiError({ id: 'micro.client', code: status, detail: text.slice(0, 1000) || \`HTTP \${status}\`, status: '' })
}

/** Whether a thrown value is a micro error. */
export function isMicroApiError(value: unknown): value is MicroApiError {
  return value instanceof MicroApiError
}
`
