/** An attribute value as OTLP carries it, flattened to JSON (int64 past 2^53 as a string). */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | AttributeValue[]
  | { [key: string]: AttributeValue }

/** Attributes by key. */
export type Attributes = Record<string, AttributeValue>

/** OpenTelemetry's span kinds, by name. */
export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer'

/** A span as the store keeps it: one OTLP span with its service (resource `service.name`). */
export interface SpanRecord {
  /** 32 lower-case hex digits. */
  traceId: string
  /** 16 lower-case hex digits. */
  spanId: string
  /** The parent span, when the span has one (it may be in another service, or not exported). */
  parentSpanId?: string
  name: string
  kind: SpanKind
  /** The resource's `service.name` (`unknown_service` when the exporter sent none). */
  service: string
  /** Start, ms since the epoch (sub-millisecond fraction kept). */
  start: number
  /** Duration, ms. */
  duration: number
  status: 'unset' | 'ok' | 'error'
  statusMessage?: string
  attributes: Attributes
  events: SpanEvent[]
  /** Other spans this one is linked to (a consumer batch to its producers, ...). */
  links: SpanLink[]
  /** The instrumentation scope (tracer name). */
  scope?: string
  /** The resource's `service.*` attributes (version, namespace, instance id). */
  resource: Attributes
}

/** A timed event inside a span (an exception, a log line). */
export interface SpanEvent {
  /** ms since the epoch. */
  time: number
  name: string
  attributes: Attributes
}

/** A link from one span to another, possibly in another trace. */
export interface SpanLink {
  traceId: string
  spanId: string
  attributes: Attributes
}

/** One line of the trace list. */
export interface TraceSummary {
  traceId: string
  /** The root span's service and name (the earliest span when the root is missing). */
  rootService: string
  rootName: string
  /** The root's endpoint (`Greeter.Hello`, `orders` for a consumer, `GET /x` for HTTP). */
  rootEndpoint: string
  /** Every service with a span in the trace, sorted. */
  services: string[]
  /** ms since the epoch. */
  start: number
  /** From the first start to the last end, ms. */
  duration: number
  spanCount: number
  errorCount: number
  status: 'ok' | 'error'
}

/** A span placed in its trace's waterfall. */
export interface WaterfallSpan extends SpanRecord {
  /** Nesting level: 0 for roots. */
  depth: number
  /** ms from the trace's start. */
  offset: number
  /** `Greeter.Hello`, a topic for messaging spans, `GET /path` for HTTP. */
  endpoint: string
  /** The span names a parent that is not in the store (not exported, or evicted). */
  orphan: boolean
}

/** A trace with its spans in waterfall order (each parent before its children, siblings by start). */
export interface TraceDetail {
  summary: TraceSummary
  spans: WaterfallSpan[]
}

/** What the trace list can be narrowed to; every given filter must match. */
export interface TraceQuery {
  /** A span of this service is in the trace. */
  service?: string
  /** A span with this endpoint (`Greeter.Hello`, a topic, `GET /path`) or name is in the trace. */
  endpoint?: string
  status?: 'ok' | 'error'
  /** The trace took at least this long, ms. */
  minDuration?: number
  maxDuration?: number
  /** The trace started at or after this time, ms since the epoch. */
  since?: number
  until?: number
  /** At most this many, newest first. Default 50, at most 1000. */
  limit?: number
}

/** A trace changed: new spans arrived for it (published once per ingested batch). */
export interface TraceUpdate {
  traceId: string
  summary: TraceSummary
}

/** Requests, errors and latency of one service (or one endpoint of it) over time. */
export interface RedSeries {
  service: string
  /** Absent for a whole-service series. */
  endpoint?: string
  /** Oldest first; one per bucket of the window, empty buckets included (count 0). */
  points: RedPoint[]
  /** The whole window together. */
  total: RedPoint
}

/** One time bucket of a RED series. */
export interface RedPoint {
  /** The bucket's start, ms since the epoch. */
  time: number
  count: number
  errors: number
  /** Requests per second over the bucket. */
  rate: number
  /** errors / count (0 with no requests). */
  errorRate: number
  /** Latency quantiles, ms (0 with no requests); within ~10% of the true value. */
  p50: number
  p95: number
  p99: number
}

/** What RED series to compute. */
export interface RedQuery {
  /** Only this service. */
  service?: string
  /** One series per endpoint instead of per service. */
  byEndpoint?: boolean
  /** How far back, ms. Default and maximum: the store's RED window (15 min). */
  window?: number
}

/** A caller -> callee edge of the service graph. */
export interface TopologyEdge {
  from: string
  to: string
  /** `rpc` for calls (client -> server spans), `message` for publish -> consume. */
  kind: 'rpc' | 'message'
  count: number
  errors: number
  /** Calls per second over the window. */
  rate: number
  /** As the caller saw it (the client or producer span), ms. */
  p99: number
}

/** The call graph built from the spans in the store. */
export interface Topology {
  services: string[]
  edges: TopologyEdge[]
  /** The window the numbers cover, ms. */
  window: number
}

/** A span that failed, for the "last errors" list. */
export interface ErrorEntry {
  traceId: string
  spanId: string
  service: string
  endpoint: string
  /** ms since the epoch (the span's end). */
  time: number
  message: string
}

/** How full the store is. */
export interface TraceStoreStats {
  spans: number
  traces: number
  bytes: number
  maxSpans: number
  maxBytes: number
  /** Spans dropped to make room since the store started. */
  evicted: number
}
