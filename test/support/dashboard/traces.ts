// A real in-memory TraceSource for the dashboard's tests, fed by an OpenTelemetry
// TracerProvider that records the spans services with `features.tracing` make.
import { randomBytes } from 'node:crypto'
import * as otel from '@opentelemetry/api'
import {
  lastErrors,
  matchesFilter,
  redSeries,
  summarize,
  topologyEdges,
} from '../../../src/dashboard/api/trace-math.js'
import type {
  AttributeValue,
  SpanRecord,
  TraceFilter,
  TraceSummary,
} from '../../../src/dashboard/api/types.js'
import type { TraceSource } from '../../../src/dashboard/sources.js'

/** Spans in a ring buffer, grouped by trace, with live listeners. */
export class MemoryTraceSource implements TraceSource {
  readonly #spans: SpanRecord[] = []
  readonly #byTrace = new Map<string, SpanRecord[]>()
  readonly #listeners = new Set<(trace: TraceSummary) => void>()
  readonly #max: number

  constructor(max = 20_000) {
    this.#max = max
  }

  add(span: SpanRecord): void {
    this.#spans.push(span)
    const trace = this.#byTrace.get(span.traceId) ?? []
    trace.push(span)
    this.#byTrace.set(span.traceId, trace)
    if (this.#spans.length > this.#max) {
      const old = this.#spans.shift() as SpanRecord
      const rest = this.#byTrace.get(old.traceId)?.filter((s) => s !== old) ?? []
      if (rest.length === 0) this.#byTrace.delete(old.traceId)
      else this.#byTrace.set(old.traceId, rest)
    }
    const summary = summarize(trace)
    for (const listener of this.#listeners) listener(summary)
  }

  async list(filter: TraceFilter): Promise<TraceSummary[]> {
    const out: TraceSummary[] = []
    for (const spans of this.#byTrace.values()) {
      const summary = summarize(spans)
      if (matchesFilter(summary, spans, filter)) out.push(summary)
    }
    return out.sort((a, b) => b.start - a.start).slice(0, filter.limit)
  }

  async get(traceId: string): Promise<SpanRecord[] | undefined> {
    return this.#byTrace.get(traceId)
  }

  subscribe(listener: (trace: TraceSummary) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async red(options: { window: number; buckets: number }) {
    return redSeries(this.#spans, Date.now(), options.window, options.buckets)
  }

  async topology(options: { window: number }) {
    return topologyEdges(this.#spans, Date.now(), options.window)
  }

  async errors(limit: number) {
    return lastErrors(this.#spans, limit)
  }
}

const KINDS: Record<number, SpanRecord['kind']> = {
  [otel.SpanKind.INTERNAL]: 'internal',
  [otel.SpanKind.SERVER]: 'server',
  [otel.SpanKind.CLIENT]: 'client',
  [otel.SpanKind.PRODUCER]: 'producer',
  [otel.SpanKind.CONSUMER]: 'consumer',
}

/**
 * A TracerProvider that records finished spans into `source`, as an SDK with an exporter
 * would: `otel.trace.setGlobalTracerProvider(recordingProvider(source))`. The tracer's
 * name is the service's (the tracing feature asks for one per service).
 */
export function recordingProvider(source: MemoryTraceSource): otel.TracerProvider {
  const tracer = (service: string): otel.Tracer => ({
    startSpan(name, options = {}, context = otel.context.active()) {
      const parent = otel.trace.getSpanContext(context)
      const spanContext: otel.SpanContext = {
        traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        traceFlags: otel.TraceFlags.SAMPLED,
      }
      const record: SpanRecord = {
        traceId: spanContext.traceId,
        spanId: spanContext.spanId,
        name,
        kind: KINDS[options.kind ?? otel.SpanKind.INTERNAL] ?? 'internal',
        service,
        start: performance.timeOrigin + performance.now(),
        duration: 0,
        status: 'ok',
        attributes: { ...(options.attributes as Record<string, AttributeValue>) },
        events: [],
      }
      if (parent?.spanId) record.parentSpanId = parent.spanId
      let ended = false
      const span: otel.Span = {
        spanContext: () => spanContext,
        setAttribute(key, value) {
          if (value !== undefined) record.attributes[key] = value as AttributeValue
          return span
        },
        setAttributes(attributes) {
          for (const [k, v] of Object.entries(attributes))
            if (v !== undefined) record.attributes[k] = v as AttributeValue
          return span
        },
        addEvent(eventName, attributes) {
          record.events.push({
            name: eventName,
            time: Date.now(),
            attributes: attributes as Record<string, AttributeValue>,
          })
          return span
        },
        addLink: () => span,
        addLinks: () => span,
        setStatus(status) {
          if (status.code === otel.SpanStatusCode.ERROR) {
            record.status = 'error'
            if (status.message) record.statusMessage = status.message
          }
          return span
        },
        updateName(newName) {
          record.name = newName
          return span
        },
        end() {
          if (ended) return
          ended = true
          record.duration = performance.timeOrigin + performance.now() - record.start
          source.add(record)
        },
        isRecording: () => !ended,
        recordException(exception) {
          const message = typeof exception === 'string' ? exception : (exception as Error).message
          record.events.push({
            name: 'exception',
            time: Date.now(),
            attributes: { 'exception.message': message ?? '' },
          })
        },
      }
      return span
    },
    startActiveSpan: (() => {
      throw new Error('not used by micro-ts')
    }) as otel.Tracer['startActiveSpan'],
  })
  return { getTracer: (name: string) => tracer(name) }
}
