// Spans services make (with `features.tracing`) recorded straight into the platform's real
// trace store (src/platform/traces), as an SDK with an exporter would deliver them, so the
// dashboard's tests read traces through the server's adapter (traceSource) without waiting
// for an export batch.
import { randomBytes } from 'node:crypto'
import * as otel from '@opentelemetry/api'
import type { AttributeValue } from '../../../src/dashboard/api/types.js'
import type { TraceStore } from '../../../src/platform/traces/trace-store.js'
import type { SpanRecord } from '../../../src/platform/traces/types.js'

const KINDS: Record<number, SpanRecord['kind']> = {
  [otel.SpanKind.INTERNAL]: 'internal',
  [otel.SpanKind.SERVER]: 'server',
  [otel.SpanKind.CLIENT]: 'client',
  [otel.SpanKind.PRODUCER]: 'producer',
  [otel.SpanKind.CONSUMER]: 'consumer',
}

/**
 * A TracerProvider that records finished spans into `store`, as an SDK with an exporter
 * would: `otel.trace.setGlobalTracerProvider(recordingProvider(store))`. The tracer's
 * name is the service's (the tracing feature asks for one per service).
 */
export function recordingProvider(store: TraceStore): otel.TracerProvider {
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
        status: 'unset',
        attributes: { ...(options.attributes as Record<string, AttributeValue>) },
        events: [],
        links: [],
        scope: service,
        resource: { 'service.name': service },
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
            attributes: { ...(attributes as Record<string, AttributeValue>) },
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
          store.add([record])
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
