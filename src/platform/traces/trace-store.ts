import type {
  ErrorEntry,
  RedQuery,
  RedSeries,
  SpanRecord,
  Topology,
  TraceDetail,
  TraceQuery,
  TraceStoreStats,
  TraceSummary,
  TraceUpdate,
} from './types.js'

/**
 * Where the platform keeps the spans services export, for the dashboard (traces, waterfall,
 * home sparklines, topology, last errors) and the developer tools. Bounded: the oldest
 * spans make room for new ones. Every read is a snapshot; `watch` pushes changes.
 */
export interface TraceStore {
  /** Add spans (an OTLP batch, decoded). Returns how many were kept. */
  add(spans: readonly SpanRecord[]): number
  /** Traces, newest first, narrowed by `query`. */
  list(query?: TraceQuery): TraceSummary[]
  /** One trace's spans in waterfall order, or undefined when none of its spans are held. */
  get(traceId: string): TraceDetail | undefined
  /**
   * Changes as they happen: one update per trace per ingested batch. Ends when `signal`
   * aborts (or `return()` is called). A consumer that falls behind loses the oldest
   * updates, never blocks ingestion.
   */
  watch(options?: { signal?: AbortSignal }): AsyncIterableIterator<TraceUpdate>
  /** Request rate, error rate and latency quantiles per service (or endpoint) in time buckets. */
  red(query?: RedQuery): RedSeries[]
  /** The service call graph with rate, errors and p99 per edge, from the spans held. */
  topology(options?: { window?: number }): Topology
  /** The most recent failed spans, newest first (default 20). */
  errors(options?: { limit?: number; service?: string }): ErrorEntry[]
  stats(): TraceStoreStats
  /** Drop every span and series (the dashboard's "clear"). */
  clear(): void
  /** End every `watch` consumer; the store stays readable. */
  close(): void
}
