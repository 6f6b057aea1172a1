// HTTP helpers for the dashboard API tests: JSON calls and server-sent event readers.
import { httpCall, type TestResponse } from '../../../src/testing/http-call.js'

/** Call the dashboard API (`path` relative to /dashboard/api). */
export function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return httpCall(url, method, `/dashboard/api${path}`, body, headers)
}

export interface SseEvent {
  event: string
  data: unknown
}

/**
 * Open an SSE stream and collect its events until `until` says enough (or `ms` pass: then
 * the events so far are returned and the caller's assertion says what was missing).
 */
export async function readSse(
  url: string,
  until: (events: SseEvent[]) => boolean,
  options: { ms?: number; headers?: Record<string, string>; onOpen?: () => void | Promise<void> } = {},
): Promise<{ status: number; events: SseEvent[] }> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.ms ?? 10_000)
  const events: SseEvent[] = []
  let status = 0
  try {
    const response = await fetch(url, { headers: options.headers ?? {}, signal: controller.signal })
    status = response.status
    if (!response.ok || !response.body) return { status, events }
    await options.onOpen?.()
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      let end = buffer.indexOf('\n\n')
      while (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        end = buffer.indexOf('\n\n')
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event === undefined || data === undefined) continue
        events.push({ event, data: JSON.parse(data) })
      }
      if (until(events)) break
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
  return { status, events }
}
