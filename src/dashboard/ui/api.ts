// The browser side of the dashboard API: JSON calls, and SSE streams with reconnects.

const BASE = '/dashboard/api'

/** An API error: the error JSON and the HTTP status. */
export class ApiError extends Error {
  readonly status: number
  readonly body: unknown
  constructor(status: number, body: unknown) {
    const detail = (body as { detail?: string } | null)?.detail
    super(detail ?? `HTTP ${status}`)
    this.status = status
    this.body = body
  }
}

/** Heard when any call answers 401: the app shows the login page. */
let onUnauthorized: () => void = () => {}
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler
}

/** The namespace every call names (the header's switcher). */
let currentNamespace = ''
export function setNamespace(namespace: string): void {
  currentNamespace = namespace
}

function withNamespace(path: string): string {
  if (!currentNamespace || /[?&]namespace=/.test(path)) return path
  return `${path}${path.includes('?') ? '&' : '?'}namespace=${encodeURIComponent(currentNamespace)}`
}

/** A full response as the explorer shows it. */
export interface RawResponse {
  status: number
  headers: Headers
  body: unknown
}

/** Send a request and return status, headers and the parsed body, without throwing on errors. */
export async function raw(method: string, path: string, body?: unknown): Promise<RawResponse> {
  const init: RequestInit = { method, headers: {}, credentials: 'same-origin' }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
  }
  const res = await fetch(`${BASE}${withNamespace(path)}`, init)
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? null : JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  if (res.status === 401 && path !== '/login') onUnauthorized()
  return { status: res.status, headers: res.headers, body: parsed }
}

/** GET or send JSON; resolves with the body, rejects with an ApiError. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await raw(method, path, body)
  if (res.status >= 400) throw new ApiError(res.status, res.body)
  return res.body as T
}

export const get = <T>(path: string) => request<T>('GET', path)

/** Handlers of an SSE stream, by event name. */
export type SseHandlers = Record<string, (data: any) => void>

/**
 * Open an SSE stream; returns the close function. The browser reconnects by itself after a
 * drop; `onState` hears whether the stream is open (for the live dot).
 */
export function stream(path: string, handlers: SseHandlers, onState?: (open: boolean) => void): () => void {
  const source = new EventSource(`${BASE}${withNamespace(path)}`)
  for (const [name, handler] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => {
      try {
        handler(JSON.parse((e as MessageEvent).data))
      } catch {
        // a malformed event is skipped
      }
    })
  }
  source.onopen = () => onState?.(true)
  source.onerror = () => onState?.(false)
  return () => source.close()
}
