import type { SpanRecord } from './types.js'

/**
 * What a span is about, for lists and filters: the RPC method (`Greeter.Hello`), the topic
 * of a messaging span, `GET /route` for HTTP, else the span's name.
 */
export function endpointOf(span: SpanRecord): string {
  const a = span.attributes
  if (typeof a['rpc.method'] === 'string') return a['rpc.method']
  if (typeof a['messaging.destination.name'] === 'string') return a['messaging.destination.name']
  if (typeof a['http.route'] === 'string') {
    const method = typeof a['http.request.method'] === 'string' ? `${a['http.request.method']} ` : ''
    return `${method}${a['http.route']}`
  }
  return span.name
}

/** When the span ended, ms since the epoch. */
export function endOf(span: SpanRecord): number {
  return span.start + span.duration
}

/** Spans that measure work a service did for a caller: the ones RED numbers count. */
export function isEntry(span: SpanRecord): boolean {
  return span.kind === 'server' || span.kind === 'consumer'
}

/** Spans that measure a call or publish to another service: the caller side of an edge. */
export function isOutbound(span: SpanRecord): boolean {
  return span.kind === 'client' || span.kind === 'producer'
}

/** A failed span's message: its status message, `error.type`, or its exception event's. */
export function errorMessageOf(span: SpanRecord): string {
  if (span.statusMessage) return span.statusMessage
  const exception = span.events.find((e) => e.name === 'exception')
  const message = exception?.attributes['exception.message']
  if (typeof message === 'string') return message
  const type = span.attributes['error.type']
  return typeof type === 'string' || typeof type === 'number' ? String(type) : 'error'
}
