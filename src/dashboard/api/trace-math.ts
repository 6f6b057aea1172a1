// Pure functions from spans to what the dashboard shows: trace summaries, RED series per
// service, the call graph and the last errors. A TraceSource over a plain span buffer can
// answer its queries with these (see test/support/dashboard/traces.ts).
import type { ErrorSample, ServiceRed, SpanRecord, TopologyEdge, TraceFilter, TraceSummary } from './types.js'

/** The summary of one trace's spans (at least one). */
export function summarize(spans: readonly SpanRecord[]): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId))
  const roots = spans.filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId))
  const root = [...(roots.length > 0 ? roots : spans)].sort((a, b) => a.start - b.start)[0] as SpanRecord
  const start = Math.min(...spans.map((s) => s.start))
  const end = Math.max(...spans.map((s) => s.start + s.duration))
  return {
    traceId: root.traceId,
    name: root.name,
    service: root.service,
    start,
    duration: end - start,
    spans: spans.length,
    errors: spans.filter((s) => s.status === 'error').length,
    services: [...new Set(spans.map((s) => s.service))].sort(),
  }
}

/** Whether a trace passes the list's filters. */
export function matchesFilter(
  summary: TraceSummary,
  spans: readonly SpanRecord[],
  filter: TraceFilter,
): boolean {
  if (filter.service && !summary.services.includes(filter.service)) return false
  if (filter.endpoint) {
    const wanted = filter.endpoint.toLowerCase()
    if (!spans.some((s) => s.name.toLowerCase().includes(wanted))) return false
  }
  if (filter.status === 'error' && summary.errors === 0) return false
  if (filter.status === 'ok' && summary.errors > 0) return false
  if (filter.minDuration !== undefined && summary.duration < filter.minDuration) return false
  if (filter.maxDuration !== undefined && summary.duration > filter.maxDuration) return false
  if (filter.since !== undefined && summary.start < filter.since) return false
  return true
}

/** The 99th percentile of durations (nearest rank); 0 for none. */
export function p99(durations: number[]): number {
  if (durations.length === 0) return 0
  const sorted = [...durations].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] as number
}

/** A span that is a service doing work for someone: a served call, or a consumed message. */
function isServed(span: SpanRecord): boolean {
  return span.kind === 'server' || span.kind === 'consumer'
}

/** Requests, errors and p99 per service in `buckets` slices of the last `window` ms. */
export function redSeries(
  spans: readonly SpanRecord[],
  now: number,
  window: number,
  buckets: number,
): ServiceRed[] {
  const step = window / buckets
  const start = now - window
  const byService = new Map<string, { requests: number[]; errors: number[]; durations: number[][] }>()
  for (const span of spans) {
    if (!isServed(span) || span.start < start || span.start > now) continue
    let series = byService.get(span.service)
    if (!series) {
      series = {
        requests: new Array(buckets).fill(0),
        errors: new Array(buckets).fill(0),
        durations: Array.from({ length: buckets }, () => []),
      }
      byService.set(span.service, series)
    }
    const slot = Math.min(buckets - 1, Math.floor((span.start - start) / step))
    series.requests[slot] = (series.requests[slot] ?? 0) + 1
    if (span.status === 'error') series.errors[slot] = (series.errors[slot] ?? 0) + 1
    series.durations[slot]?.push(span.duration)
  }
  return [...byService]
    .map(([service, s]) => ({
      service,
      start,
      step,
      requests: s.requests,
      errors: s.errors,
      p99: s.durations.map(p99),
    }))
    .sort((a, b) => a.service.localeCompare(b.service))
}

/**
 * Caller -> callee edges of the last `window` ms: a served span whose parent was recorded
 * by another service (a client span for RPC, a producer span for events), or a consumer
 * span linked to a producer.
 */
export function topologyEdges(spans: readonly SpanRecord[], now: number, window: number): TopologyEdge[] {
  const byId = new Map(spans.map((s) => [`${s.traceId}/${s.spanId}`, s]))
  const edges = new Map<string, { edge: TopologyEdge; durations: number[] }>()
  for (const span of spans) {
    if (!isServed(span) || span.start < now - window) continue
    const parents = [
      span.parentSpanId === undefined ? undefined : byId.get(`${span.traceId}/${span.parentSpanId}`),
      ...(span.links ?? []).map((l) => byId.get(`${l.traceId}/${l.spanId}`)),
    ]
    const caller = parents.find((p) => p !== undefined && p.service !== span.service)
    if (!caller) continue
    const via = caller.kind === 'producer' || span.kind === 'consumer' ? 'event' : 'rpc'
    const key = `${caller.service}\u0000${span.service}\u0000${via}`
    let entry = edges.get(key)
    if (!entry) {
      entry = {
        edge: { from: caller.service, to: span.service, via, requests: 0, errors: 0, rate: 0, p99: 0 },
        durations: [],
      }
      edges.set(key, entry)
    }
    entry.edge.requests++
    if (span.status === 'error') entry.edge.errors++
    entry.durations.push(span.duration)
  }
  return [...edges.values()].map(({ edge, durations }) => ({
    ...edge,
    rate: edge.requests / (window / 1000),
    p99: p99(durations),
  }))
}

/** The last `limit` failed served calls, newest first. */
export function lastErrors(spans: readonly SpanRecord[], limit: number): ErrorSample[] {
  return spans
    .filter((s) => s.status === 'error' && isServed(s))
    .sort((a, b) => b.start - a.start)
    .slice(0, limit)
    .map((s) => {
      const code = s.attributes['micro.error.code']
      const sample: ErrorSample = {
        traceId: s.traceId,
        spanId: s.spanId,
        service: s.service,
        name: s.name,
        time: s.start,
        message: s.statusMessage ?? 'failed',
      }
      if (typeof code === 'number') sample.code = code
      return sample
    })
}
