import type {
  AttributeValue,
  ErrorSample,
  ServiceRed,
  SpanRecord,
  TopologyEdge,
  TraceFilter,
  TraceSummary,
} from '../../dashboard/api/types.js'
import type { TraceSource } from '../../dashboard/sources.js'
import type { TraceStore } from '../traces/trace-store.js'
import type { Attributes, TraceSummary as StoreSummary, WaterfallSpan } from '../traces/types.js'

/** How many of the newest traces a text search looks through. */
const SEARCHED = 1000

/**
 * The platform's trace store as the dashboard's {@link TraceSource}: summaries and spans in
 * the dashboard's shapes, RED series regrouped into the slices a sparkline asks for (from
 * the store's 10 s buckets, so they outlive evicted spans), topology and last errors.
 */
export function traceSource(store: TraceStore): TraceSource {
  return {
    async list(filter: TraceFilter): Promise<TraceSummary[]> {
      const query = {
        service: filter.service,
        status: filter.status,
        minDuration: filter.minDuration,
        maxDuration: filter.maxDuration,
        since: filter.since,
      }
      if (!filter.endpoint) return store.list({ ...query, limit: filter.limit }).map(summaryOf)
      // The dashboard's search box: any span whose name contains the text, in any case.
      const wanted = filter.endpoint.toLowerCase()
      const found: TraceSummary[] = []
      for (const summary of store.list({ ...query, limit: SEARCHED })) {
        if (found.length >= filter.limit) break
        const named = (name: string) => name.toLowerCase().includes(wanted)
        if (named(summary.rootName) || store.get(summary.traceId)?.spans.some((span) => named(span.name)))
          found.push(summaryOf(summary))
      }
      return found
    },
    async get(traceId: string): Promise<SpanRecord[] | undefined> {
      return store.get(traceId)?.spans.map(spanOf)
    },
    subscribe(listener: (trace: TraceSummary) => void): () => void {
      const stop = new AbortController()
      void (async () => {
        for await (const update of store.watch({ signal: stop.signal })) listener(summaryOf(update.summary))
      })().catch(() => undefined)
      return () => stop.abort()
    },
    async red({ window, buckets }): Promise<ServiceRed[]> {
      const now = Date.now()
      const step = Math.max(1, Math.ceil(window / Math.max(1, buckets)))
      const start = now - step * buckets
      return store.red({ window }).map((series) => {
        const requests = new Array<number>(buckets).fill(0)
        const errors = new Array<number>(buckets).fill(0)
        const p99 = new Array<number>(buckets).fill(0)
        for (const point of series.points) {
          const slice = Math.floor((point.time - start) / step)
          if (slice < 0 || slice >= buckets || point.count === 0) continue
          requests[slice] = (requests[slice] as number) + point.count
          errors[slice] = (errors[slice] as number) + point.errors
          // The slice's p99 is at least each bucket's: the worst one stands for it.
          p99[slice] = Math.max(p99[slice] as number, point.p99)
        }
        return { service: series.service, start, step, requests, errors, p99 }
      })
    },
    async topology({ window }): Promise<TopologyEdge[]> {
      return store.topology({ window }).edges.map((edge) => ({
        from: edge.from,
        to: edge.to,
        via: edge.kind === 'message' ? 'event' : 'rpc',
        requests: edge.count,
        errors: edge.errors,
        rate: edge.rate,
        p99: edge.p99,
      }))
    },
    async errors(limit: number): Promise<ErrorSample[]> {
      return store.errors({ limit }).map((entry) => ({
        traceId: entry.traceId,
        spanId: entry.spanId,
        service: entry.service,
        name: entry.endpoint,
        time: entry.time,
        message: entry.message,
      }))
    },
  }
}

function summaryOf(summary: StoreSummary): TraceSummary {
  return {
    traceId: summary.traceId,
    name: summary.rootName,
    service: summary.rootService,
    start: summary.start,
    duration: summary.duration,
    spans: summary.spanCount,
    errors: summary.errorCount,
    services: summary.services,
  }
}

function spanOf(span: WaterfallSpan): SpanRecord {
  const record: SpanRecord = {
    traceId: span.traceId,
    spanId: span.spanId,
    name: span.name,
    kind: span.kind,
    service: span.service,
    start: span.start,
    duration: span.duration,
    status: span.status === 'error' ? 'error' : 'ok',
    attributes: attributesOf(span.attributes),
    events: span.events.map((event) => ({
      name: event.name,
      time: event.time,
      attributes: attributesOf(event.attributes),
    })),
  }
  if (span.parentSpanId) record.parentSpanId = span.parentSpanId
  if (span.statusMessage) record.statusMessage = span.statusMessage
  if (span.links.length > 0)
    record.links = span.links.map((link) => ({ traceId: link.traceId, spanId: link.spanId }))
  return record
}

/** OTLP values as the dashboard shows them: scalars and flat arrays as they are, anything else as JSON text. */
function attributesOf(attributes: Attributes): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {}
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value
    else if (Array.isArray(value) && isFlat(value)) out[key] = value as AttributeValue
    else out[key] = JSON.stringify(value)
  }
  return out
}

function isFlat(values: unknown[]): boolean {
  const kind = typeof values[0]
  return (
    (kind === 'string' || kind === 'number' || kind === 'boolean') && values.every((v) => typeof v === kind)
  )
}
