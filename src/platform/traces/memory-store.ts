import { RedAggregator } from './red.js'
import { endOf, endpointOf, errorMessageOf } from './span-view.js'
import { buildTopology } from './topology.js'
import type { TraceStore } from './trace-store.js'
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
import { Watchers } from './watchers.js'
import { summarize, waterfall } from './waterfall.js'

/** Bounds and clock of a MemoryTraceStore. */
export interface MemoryTraceStoreOptions {
  /** Spans held at most; the oldest go first. Default 20,000 (MICRO_TRACES_MAX_SPANS). */
  maxSpans?: number
  /** Bytes of span JSON held at most. Default 32 MiB (MICRO_TRACES_MAX_BYTES). */
  maxBytes?: number
  /** Failed spans remembered for `errors()`. Default 200. */
  maxErrors?: number
  /** RED bucket width and window, ms. Default 10 s and 15 min. */
  redBucket?: number
  redWindow?: number
  /** Updates a slow `watch` consumer may have queued before it loses the oldest. Default 1000. */
  maxQueuedUpdates?: number
  now?: () => number
}

interface Held {
  span: SpanRecord
  bytes: number
}

/**
 * The trace store in memory: a ring of spans bounded by count and by bytes (each span's
 * JSON size), indexed by trace id. Spans of one trace may arrive from many services and
 * batches, in any order; a span sent twice (an exporter's retry) is kept once.
 */
export class MemoryTraceStore implements TraceStore {
  readonly #maxSpans: number
  readonly #maxBytes: number
  readonly #maxErrors: number
  readonly #now: () => number
  /** Oldest first; `#head` is the next to evict (compacted now and then, not on every shift). */
  #ring: Held[] = []
  #head = 0
  #bytes = 0
  #evicted = 0
  readonly #traces = new Map<string, Map<string, SpanRecord>>()
  readonly #summaries = new Map<string, TraceSummary>()
  #errors: ErrorEntry[] = []
  readonly #red: RedAggregator
  readonly #watchers: Watchers<TraceUpdate>

  constructor(options: MemoryTraceStoreOptions = {}) {
    this.#maxSpans = positive(options.maxSpans, 20_000, 'maxSpans')
    this.#maxBytes = positive(options.maxBytes, 32 * 1024 * 1024, 'maxBytes')
    this.#maxErrors = positive(options.maxErrors, 200, 'maxErrors')
    this.#now = options.now ?? Date.now
    this.#red = new RedAggregator({ bucket: options.redBucket, window: options.redWindow, now: this.#now })
    this.#watchers = new Watchers(options.maxQueuedUpdates ?? 1000)
  }

  add(spans: readonly SpanRecord[]): number {
    const touched = new Set<string>()
    let kept = 0
    for (const span of spans) {
      let trace = this.#traces.get(span.traceId)
      if (trace?.has(span.spanId)) continue
      const bytes = JSON.stringify(span).length
      // A span bigger than the whole budget would only empty the store.
      if (bytes > this.#maxBytes) continue
      if (!trace) {
        trace = new Map()
        this.#traces.set(span.traceId, trace)
      }
      trace.set(span.spanId, span)
      this.#ring.push({ span, bytes })
      this.#bytes += bytes
      this.#summaries.delete(span.traceId)
      touched.add(span.traceId)
      this.#red.add(span)
      if (span.status === 'error') this.#rememberError(span)
      kept++
      this.#evictOverflow()
    }
    if (this.#watchers.size > 0) {
      for (const traceId of touched) {
        const summary = this.#summary(traceId)
        if (summary) this.#watchers.publish({ traceId, summary })
      }
    }
    return kept
  }

  list(query: TraceQuery = {}): TraceSummary[] {
    const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 50)), 1000)
    const matches: TraceSummary[] = []
    for (const traceId of this.#traces.keys()) {
      const summary = this.#summary(traceId)
      if (summary && this.#matches(traceId, summary, query)) matches.push(summary)
    }
    matches.sort((a, b) => b.start - a.start || a.traceId.localeCompare(b.traceId))
    return matches.slice(0, limit)
  }

  get(traceId: string): TraceDetail | undefined {
    const spans = this.#traces.get(traceId.toLowerCase())
    return spans && spans.size > 0 ? waterfall(traceId.toLowerCase(), spans) : undefined
  }

  watch(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<TraceUpdate> {
    return this.#watchers.watch(options.signal)
  }

  red(query?: RedQuery): RedSeries[] {
    return this.#red.query(query)
  }

  topology(options: { window?: number } = {}): Topology {
    const window = options.window ?? this.#red.window
    return buildTopology(this.#traces.values(), this.#now() - window, window)
  }

  errors(options: { limit?: number; service?: string } = {}): ErrorEntry[] {
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 20)), this.#maxErrors)
    const out: ErrorEntry[] = []
    for (let i = this.#errors.length - 1; i >= 0 && out.length < limit; i--) {
      const entry = this.#errors[i] as ErrorEntry
      if (options.service === undefined || entry.service === options.service) out.push(entry)
    }
    return out
  }

  stats(): TraceStoreStats {
    return {
      spans: this.#ring.length - this.#head,
      traces: this.#traces.size,
      bytes: this.#bytes,
      maxSpans: this.#maxSpans,
      maxBytes: this.#maxBytes,
      evicted: this.#evicted,
    }
  }

  clear(): void {
    this.#ring = []
    this.#head = 0
    this.#bytes = 0
    this.#traces.clear()
    this.#summaries.clear()
    this.#errors = []
    this.#red.clear()
  }

  /** End every `watch` consumer. */
  close(): void {
    this.#watchers.endAll()
  }

  #summary(traceId: string): TraceSummary | undefined {
    let summary = this.#summaries.get(traceId)
    if (summary) return summary
    const spans = this.#traces.get(traceId)
    if (!spans || spans.size === 0) return undefined
    summary = summarize(traceId, spans)
    this.#summaries.set(traceId, summary)
    return summary
  }

  #matches(traceId: string, summary: TraceSummary, query: TraceQuery): boolean {
    if (query.status !== undefined && summary.status !== query.status) return false
    if (query.minDuration !== undefined && summary.duration < query.minDuration) return false
    if (query.maxDuration !== undefined && summary.duration > query.maxDuration) return false
    if (query.since !== undefined && summary.start < query.since) return false
    if (query.until !== undefined && summary.start > query.until) return false
    if (query.service !== undefined && !summary.services.includes(query.service)) return false
    if (query.endpoint !== undefined) {
      const wanted = query.endpoint
      const spans = this.#traces.get(traceId)?.values() ?? []
      let found = false
      for (const span of spans) {
        if (span.name === wanted || endpointOf(span) === wanted) {
          found = true
          break
        }
      }
      if (!found) return false
    }
    return true
  }

  #rememberError(span: SpanRecord): void {
    this.#errors.push({
      traceId: span.traceId,
      spanId: span.spanId,
      service: span.service,
      endpoint: endpointOf(span),
      time: endOf(span),
      message: errorMessageOf(span),
    })
    if (this.#errors.length > this.#maxErrors * 2) this.#errors = this.#errors.slice(-this.#maxErrors)
  }

  #evictOverflow(): void {
    while (this.#ring.length - this.#head > this.#maxSpans || this.#bytes > this.#maxBytes) {
      const oldest = this.#ring[this.#head] as Held
      this.#ring[this.#head] = undefined as unknown as Held
      this.#head++
      this.#bytes -= oldest.bytes
      this.#evicted++
      const trace = this.#traces.get(oldest.span.traceId)
      trace?.delete(oldest.span.spanId)
      this.#summaries.delete(oldest.span.traceId)
      if (trace?.size === 0) this.#traces.delete(oldest.span.traceId)
    }
    if (this.#head > 1024 && this.#head * 2 > this.#ring.length) {
      this.#ring = this.#ring.slice(this.#head)
      this.#head = 0
    }
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value < 1) throw new TypeError(`${name} must be a positive number`)
  return Math.floor(value)
}
