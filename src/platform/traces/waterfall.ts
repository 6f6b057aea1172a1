import { endOf, endpointOf } from './span-view.js'
import type { SpanRecord, TraceDetail, TraceSummary, WaterfallSpan } from './types.js'

/** The list line of a trace from its spans (at least one). */
export function summarize(traceId: string, spans: ReadonlyMap<string, SpanRecord>): TraceSummary {
  let root: SpanRecord | undefined
  let start = Number.POSITIVE_INFINITY
  let end = 0
  let errorCount = 0
  const services = new Set<string>()
  for (const span of spans.values()) {
    services.add(span.service)
    if (span.start < start) start = span.start
    if (endOf(span) > end) end = endOf(span)
    if (span.status === 'error') errorCount++
    const isRoot = span.parentSpanId === undefined || !spans.has(span.parentSpanId)
    if (!isRoot) continue
    // A true root (no parent at all) beats an orphan; then the earliest.
    const better =
      !root ||
      (span.parentSpanId === undefined && root.parentSpanId !== undefined) ||
      ((span.parentSpanId === undefined) === (root.parentSpanId === undefined) && span.start < root.start)
    if (better) root = span
  }
  // Every span has a parent in the trace only when parents form a cycle: take the earliest.
  root ??= [...spans.values()].reduce((a, b) => (b.start < a.start ? b : a))
  return {
    traceId,
    rootService: root.service,
    rootName: root.name,
    rootEndpoint: endpointOf(root),
    services: [...services].sort(),
    start,
    duration: Math.max(0, end - start),
    spanCount: spans.size,
    errorCount,
    status: errorCount > 0 ? 'error' : 'ok',
  }
}

/**
 * A trace in waterfall order: each span after its parent, siblings by start time, with its
 * depth and offset from the trace's start. Spans whose parent is not held are roots
 * marked `orphan`. Walked without recursion, so a long chain cannot overflow the stack.
 */
export function waterfall(traceId: string, spans: ReadonlyMap<string, SpanRecord>): TraceDetail {
  const summary = summarize(traceId, spans)
  const children = new Map<string, SpanRecord[]>()
  const roots: SpanRecord[] = []
  for (const span of spans.values()) {
    const parent = span.parentSpanId
    if (parent !== undefined && spans.has(parent) && parent !== span.spanId) {
      const list = children.get(parent)
      if (list) list.push(span)
      else children.set(parent, [span])
    } else {
      roots.push(span)
    }
  }
  const byStart = (a: SpanRecord, b: SpanRecord) => a.start - b.start || a.spanId.localeCompare(b.spanId)
  for (const list of children.values()) list.sort(byStart)
  roots.sort(byStart)
  const out: WaterfallSpan[] = []
  const visited = new Set<string>()
  const visit = (first: SpanRecord) => {
    const stack: { span: SpanRecord; depth: number }[] = [{ span: first, depth: 0 }]
    while (stack.length > 0) {
      const { span, depth } = stack.pop() as { span: SpanRecord; depth: number }
      if (visited.has(span.spanId)) continue
      visited.add(span.spanId)
      out.push({
        ...span,
        depth,
        offset: span.start - summary.start,
        endpoint: endpointOf(span),
        orphan: span.parentSpanId !== undefined && !spans.has(span.parentSpanId),
      })
      const kids = children.get(span.spanId) ?? []
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ span: kids[i] as SpanRecord, depth: depth + 1 })
    }
  }
  for (const root of roots) visit(root)
  // Spans in a parent cycle are reachable from no root: show them rather than lose them.
  for (const span of [...spans.values()].sort(byStart)) if (!visited.has(span.spanId)) visit(span)
  return { summary, spans: out }
}
