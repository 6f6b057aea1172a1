import { performance } from 'node:perf_hooks'
import type { CallSource, CallStream } from '../../dashboard/sources.js'
import { canceled, MicroError } from '../../errors/errors.js'
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
  type TraceContext,
} from '../../features/tracing/traceparent.js'
import type { TraceStore } from '../traces/trace-store.js'
import type { Attributes, SpanRecord } from '../traces/types.js'

/** The service the dashboard's own spans are recorded under. */
export const DASHBOARD_SERVICE = 'micro.dashboard'

/**
 * The dashboard's explorer calls, traced: each call (or stream, from open to its end) is
 * a client span of `micro.dashboard`, named and described as the tracing feature's client
 * spans are (`rpc.method`, `server.address`, `rpc.response.status_code`, `error.type`),
 * recorded straight into `store` (the trace store the OTLP receiver fills), and the parent
 * of the service's server span. The span is the one the call's `traceparent` names (the
 * explorer makes a new one per call), so the explorer's trace link shows the call as the
 * trace's root; when that names a span the store already holds (a traceparent copied from
 * another trace), the call is a new span under it and the service hears of the new one.
 * An unsampled traceparent records nothing.
 */
export function tracedCalls(calls: CallSource, store: TraceStore): CallSource {
  return {
    async call(service, endpoint, request, options) {
      const span = startSpan(store, service, endpoint, options.metadata, false)
      try {
        const reply = await calls.call(service, endpoint, request, { ...options, metadata: span.metadata })
        span.end()
        return reply
      } catch (error) {
        span.end(error)
        throw error
      }
    },
    stream(service, endpoint, options) {
      const span = startSpan(store, service, endpoint, options.metadata, true)
      let stream: CallStream
      try {
        stream = calls.stream(service, endpoint, { ...options, metadata: span.metadata })
      } catch (error) {
        span.end(error)
        throw error
      }
      return tracedStream(stream, span)
    },
  }
}

interface CallSpan {
  /** The call's metadata, with the `traceparent` naming this span. */
  metadata: Record<string, string>
  /** End the span (once: later calls do nothing), failed when `error` is given. */
  end(error?: unknown): void
}

function startSpan(
  store: TraceStore,
  service: string,
  endpoint: string,
  given: Record<string, string> | undefined,
  stream: boolean,
): CallSpan {
  const metadata = { ...given }
  const parent = parseTraceparent(metadata.traceparent, metadata.tracestate)
  const held =
    parent !== undefined && store.get(parent.traceId)?.spans.some((s) => s.spanId === parent.spanId)
  const own: TraceContext = parent
    ? held
      ? { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags }
      : parent
    : { traceId: newTraceId(), spanId: newSpanId(), flags: 1 }
  metadata.traceparent = formatTraceparent(own)
  const sampled = (own.flags & 1) === 1
  const start = now()
  let ended = !sampled
  return {
    metadata,
    end(error?: unknown) {
      if (ended) return
      ended = true
      const attributes: Attributes = {
        'rpc.system.name': 'micro',
        'rpc.method': endpoint,
        'server.address': service,
      }
      if (stream) attributes['micro.stream'] = true
      const span: SpanRecord = {
        traceId: own.traceId,
        spanId: own.spanId,
        name: endpoint,
        kind: 'client',
        service: DASHBOARD_SERVICE,
        start,
        duration: Math.max(0, now() - start),
        status: 'unset',
        attributes,
        events: [],
        links: [],
        scope: DASHBOARD_SERVICE,
        resource: { 'service.name': DASHBOARD_SERVICE },
      }
      if (held) span.parentSpanId = parent.spanId
      if (error === undefined) attributes['rpc.response.status_code'] = '200'
      else {
        // As the tracing feature's client spans: every failure a caller sees is an error.
        const e = MicroError.from(error)
        attributes['rpc.response.status_code'] = String(e.code)
        attributes['error.type'] = String(e.code)
        span.status = 'error'
        span.statusMessage = e.detail
        span.events.push({
          name: 'exception',
          time: span.start + span.duration,
          attributes: {
            'exception.type': error instanceof Error ? error.name : 'Error',
            'exception.message': e.detail,
          },
        })
      }
      store.add([span])
    },
  }
}

/** A stream whose span ends when its replies end, fail, or it is canceled. */
function tracedStream(stream: CallStream, span: CallSpan): CallStream {
  return {
    send: (message) => stream.send(message),
    closeSend: () => stream.closeSend(),
    cancel(detail) {
      span.end(canceled(DASHBOARD_SERVICE, detail ?? 'canceled from the dashboard'))
      stream.cancel(detail)
    },
    [Symbol.asyncIterator]() {
      const replies = stream[Symbol.asyncIterator]()
      return {
        async next() {
          try {
            const step = await replies.next()
            if (step.done) span.end()
            return step
          } catch (error) {
            span.end(error)
            throw error
          }
        },
        async return(value?: unknown) {
          span.end()
          return (await replies.return?.(value)) ?? { done: true, value: undefined }
        },
      }
    },
  }
}

/** ms since the epoch, with the sub-millisecond fraction. */
function now(): number {
  return performance.timeOrigin + performance.now()
}
