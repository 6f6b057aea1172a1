import { LatencyHistogram } from './histogram.js'
import { isEntry, isOutbound } from './span-view.js'
import type { SpanRecord, Topology, TopologyEdge } from './types.js'

interface EdgeTally {
  from: string
  to: string
  kind: 'rpc' | 'message'
  count: number
  errors: number
  latency: LatencyHistogram
}

/**
 * The service graph from the spans of each trace: a client span and the server spans that
 * are its children make an `rpc` edge from the caller's service to the callee's; a producer
 * span and its consumer children make a `message` edge. A client span whose server side
 * was not exported still counts, toward the service its `server.address` (or
 * `peer.service`) names. Latency and errors are the caller's view.
 */
export function buildTopology(
  traces: Iterable<ReadonlyMap<string, SpanRecord>>,
  since: number,
  window: number,
): Topology {
  const services = new Set<string>()
  const edges = new Map<string, EdgeTally>()
  const tally = (from: string, to: string, kind: 'rpc' | 'message', caller: SpanRecord, failed: boolean) => {
    const key = `${from}\u0000${to}\u0000${kind}`
    let edge = edges.get(key)
    if (!edge) {
      edge = { from, to, kind, count: 0, errors: 0, latency: new LatencyHistogram() }
      edges.set(key, edge)
    }
    edge.count++
    if (failed) edge.errors++
    edge.latency.add(caller.duration)
    services.add(from)
    services.add(to)
  }
  for (const spans of traces) {
    const children = new Map<string, SpanRecord[]>()
    for (const span of spans.values()) {
      if (span.start < since) continue
      if (isEntry(span)) services.add(span.service)
      if (span.parentSpanId === undefined || !isEntry(span)) continue
      const list = children.get(span.parentSpanId)
      if (list) list.push(span)
      else children.set(span.parentSpanId, [span])
    }
    for (const span of spans.values()) {
      if (span.start < since || !isOutbound(span)) continue
      const kind = span.kind === 'producer' ? 'message' : 'rpc'
      const callees = children.get(span.spanId)
      if (callees && callees.length > 0) {
        const seen = new Set<string>()
        for (const callee of callees) {
          if (seen.has(callee.service)) continue
          seen.add(callee.service)
          tally(
            span.service,
            callee.service,
            kind,
            span,
            span.status === 'error' || callee.status === 'error',
          )
        }
        continue
      }
      const named = span.attributes['peer.service'] ?? span.attributes['server.address']
      if (kind === 'rpc' && typeof named === 'string' && named !== '') {
        tally(span.service, named, kind, span, span.status === 'error')
      }
    }
  }
  const seconds = window / 1000
  const out: TopologyEdge[] = [...edges.values()]
    .map((e) => ({
      from: e.from,
      to: e.to,
      kind: e.kind,
      count: e.count,
      errors: e.errors,
      rate: e.count / seconds,
      p99: e.latency.quantile(0.99),
    }))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.kind.localeCompare(b.kind))
  return { services: [...services].sort(), edges: out, window }
}
