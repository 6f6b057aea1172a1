import { type AttributeLimits, attributesOf, cut, DEFAULT_ATTRIBUTE_LIMITS, isObject } from './attributes.js'
import type { Attributes, SpanEvent, SpanKind, SpanLink, SpanRecord } from './types.js'

/** Caps on one span beyond its attributes. */
export interface SpanLimits extends AttributeLimits {
  maxEvents: number
  maxLinks: number
  /** Characters kept of a span, event or service name. */
  maxNameLength: number
}

export const DEFAULT_SPAN_LIMITS: SpanLimits = {
  ...DEFAULT_ATTRIBUTE_LIMITS,
  maxEvents: 128,
  maxLinks: 128,
  maxNameLength: 256,
}

/** What an OTLP export request held. */
export interface DecodedSpans {
  spans: SpanRecord[]
  /** Spans refused (bad ids or times), with the first reason. */
  rejected: number
  reason?: string
}

/**
 * How ids are written: OTLP/JSON uses hex; protobuf bytes turned into proto3 JSON are
 * base64.
 */
export type IdEncoding = 'hex' | 'base64'

const KINDS: readonly SpanKind[] = ['internal', 'internal', 'server', 'client', 'producer', 'consumer']
const STATUSES = ['unset', 'ok', 'error'] as const
const HEX_TRACE = /^[0-9a-f]{32}$/
const HEX_SPAN = /^[0-9a-f]{16}$/
const NANOS = /^\d{1,20}$/

/**
 * An ExportTraceServiceRequest in its JSON form (OTLP/JSON, or protobuf decoded to proto3
 * JSON) to span records. Unknown fields are ignored, as OTLP requires; a span with a bad
 * id or time is rejected alone (a partial success), the others are kept.
 */
export function decodeExportRequest(
  body: unknown,
  ids: IdEncoding,
  limits: SpanLimits = DEFAULT_SPAN_LIMITS,
): DecodedSpans {
  if (!isObject(body)) throw new TypeError('the body is not an ExportTraceServiceRequest object')
  const out: DecodedSpans = { spans: [], rejected: 0 }
  const resourceSpans = body.resourceSpans ?? []
  if (!Array.isArray(resourceSpans)) throw new TypeError('resourceSpans is not a list')
  for (const rs of resourceSpans) {
    if (!isObject(rs)) continue
    const resource = attributesOf(isObject(rs.resource) ? rs.resource.attributes : undefined, limits)
    const service = cut(
      typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown_service',
      limits.maxNameLength,
    )
    const kept = serviceAttributes(resource)
    for (const ss of Array.isArray(rs.scopeSpans) ? rs.scopeSpans : []) {
      if (!isObject(ss) || !Array.isArray(ss.spans)) continue
      const scope = isObject(ss.scope) && typeof ss.scope.name === 'string' ? ss.scope.name : undefined
      for (const raw of ss.spans) {
        const span = spanOf(raw, ids, limits)
        if (typeof span === 'string') {
          out.rejected++
          out.reason ??= span
          continue
        }
        span.service = service
        span.resource = kept
        if (scope) span.scope = cut(scope, limits.maxNameLength)
        out.spans.push(span)
      }
    }
  }
  return out
}

/** One span, or the reason it is refused. */
function spanOf(raw: unknown, ids: IdEncoding, limits: SpanLimits): SpanRecord | string {
  if (!isObject(raw)) return 'a span is not an object'
  const traceId = idOf(raw.traceId, ids, 16)
  const spanId = idOf(raw.spanId, ids, 8)
  if (!traceId || !HEX_TRACE.test(traceId) || /^0+$/.test(traceId)) return 'a span has an invalid traceId'
  if (!spanId || !HEX_SPAN.test(spanId) || /^0+$/.test(spanId)) return 'a span has an invalid spanId'
  let parentSpanId: string | undefined
  if (raw.parentSpanId !== undefined && raw.parentSpanId !== '') {
    parentSpanId = idOf(raw.parentSpanId, ids, 8)
    if (!parentSpanId || !HEX_SPAN.test(parentSpanId)) return 'a span has an invalid parentSpanId'
    if (/^0+$/.test(parentSpanId)) parentSpanId = undefined
  }
  const start = nanosToMs(raw.startTimeUnixNano)
  const end = nanosToMs(raw.endTimeUnixNano)
  if (start === undefined || end === undefined) return 'a span has an invalid start or end time'
  const status = isObject(raw.status) ? raw.status : {}
  const span: SpanRecord = {
    traceId,
    spanId,
    name: cut(typeof raw.name === 'string' ? raw.name : '', limits.maxNameLength),
    kind: KINDS[enumOf(raw.kind, 'SPAN_KIND_', KINDS.length)] ?? 'internal',
    service: '',
    start,
    duration: Math.max(0, end - start),
    status: STATUSES[enumOf(status.code, 'STATUS_CODE_', STATUSES.length)] ?? 'unset',
    attributes: attributesOf(raw.attributes, limits),
    events: eventsOf(raw.events, limits),
    links: linksOf(raw.links, ids, limits),
    resource: {},
  }
  if (parentSpanId) span.parentSpanId = parentSpanId
  if (typeof status.message === 'string' && status.message !== '') {
    span.statusMessage = cut(status.message, limits.maxValueLength)
  }
  return span
}

function eventsOf(raw: unknown, limits: SpanLimits): SpanEvent[] {
  if (!Array.isArray(raw)) return []
  const events: SpanEvent[] = []
  for (const e of raw.slice(0, limits.maxEvents)) {
    if (!isObject(e)) continue
    events.push({
      time: nanosToMs(e.timeUnixNano) ?? 0,
      name: cut(typeof e.name === 'string' ? e.name : '', limits.maxNameLength),
      attributes: attributesOf(e.attributes, limits),
    })
  }
  return events
}

function linksOf(raw: unknown, ids: IdEncoding, limits: SpanLimits): SpanLink[] {
  if (!Array.isArray(raw)) return []
  const links: SpanLink[] = []
  for (const l of raw.slice(0, limits.maxLinks)) {
    if (!isObject(l)) continue
    const traceId = idOf(l.traceId, ids, 16)
    const spanId = idOf(l.spanId, ids, 8)
    if (!traceId || !spanId || !HEX_TRACE.test(traceId) || !HEX_SPAN.test(spanId)) continue
    links.push({ traceId, spanId, attributes: attributesOf(l.attributes, limits) })
  }
  return links
}

/** The resource attributes worth keeping on each span: `service.*`. */
function serviceAttributes(resource: Attributes): Attributes {
  const kept: Attributes = {}
  let n = 0
  for (const [key, value] of Object.entries(resource)) {
    if (!key.startsWith('service.') || key === 'service.name') continue
    kept[key] = value
    if (++n >= 16) break
  }
  return kept
}

/** An id as lower-case hex; base64 ids (protobuf bytes) must decode to exactly `bytes` bytes. */
function idOf(raw: unknown, ids: IdEncoding, bytes: number): string | undefined {
  if (typeof raw !== 'string') return undefined
  if (ids === 'hex') return raw.length === bytes * 2 ? raw.toLowerCase() : undefined
  const decoded = Buffer.from(raw, 'base64')
  return decoded.length === bytes ? decoded.toString('hex') : undefined
}

/** A fixed64 nanosecond time (a decimal string or a number) in ms since the epoch. */
function nanosToMs(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw / 1e6 : undefined
  if (typeof raw !== 'string' || !NANOS.test(raw)) return undefined
  const nanos = BigInt(raw)
  if (nanos >= 1n << 64n) return undefined
  return Number(nanos / 1000n) / 1000
}

/** An enum given as its number or its name (`SPAN_KIND_SERVER`), as an index below `size`; 0 when unknown. */
function enumOf(raw: unknown, prefix: string, size: number): number {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw < size) return raw
  if (typeof raw === 'string' && raw.startsWith(prefix)) {
    const names: Record<string, number> = {
      SPAN_KIND_UNSPECIFIED: 0,
      SPAN_KIND_INTERNAL: 1,
      SPAN_KIND_SERVER: 2,
      SPAN_KIND_CLIENT: 3,
      SPAN_KIND_PRODUCER: 4,
      SPAN_KIND_CONSUMER: 5,
      STATUS_CODE_UNSET: 0,
      STATUS_CODE_OK: 1,
      STATUS_CODE_ERROR: 2,
    }
    return names[raw] ?? 0
  }
  return 0
}
