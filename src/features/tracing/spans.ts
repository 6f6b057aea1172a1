import { AsyncLocalStorage } from 'node:async_hooks'
import type * as Otel from '@opentelemetry/api'
import { MicroError } from '../../errors/errors.js'
import { onSettled } from '../settle.js'
import { newSpanId, newTraceId, type TraceContext } from './traceparent.js'

/** The span a piece of code runs in. */
export interface ActiveSpan {
  readonly trace: TraceContext
  readonly span: Otel.Span
  readonly otel: Otel.Context
  readonly kind: SpanKindName
  /** An RPC span (server or client): its outcome is recorded as `rpc.response.status_code`. */
  readonly rpc: boolean
}

/** OpenTelemetry's span kinds, by name. */
export type SpanKindName = 'server' | 'client' | 'internal' | 'producer' | 'consumer'

/**
 * Spans through the OpenTelemetry API, and the current one in AsyncLocalStorage. With a
 * recording tracer (the feature's own OTLP exporter, or an OpenTelemetry SDK registered
 * globally), spans are real; with the API's no-op tracer nothing is recorded, so ids are
 * made here and the W3C context still flows from call to call.
 */
export class Spans {
  readonly #api: typeof Otel
  readonly #tracer: Otel.Tracer
  readonly #current = new AsyncLocalStorage<ActiveSpan>()

  constructor(api: typeof Otel, tracer: Otel.Tracer) {
    this.#api = api
    this.#tracer = tracer
  }

  /** The span the calling code runs in, if any. */
  current(): ActiveSpan | undefined {
    return this.#current.getStore()
  }

  /** Start a span, child of `parent` (a remote context) or else of the current span. */
  start(
    name: string,
    kind: SpanKindName,
    parent?: TraceContext,
    attributes?: Otel.Attributes,
    rpc = false,
  ): ActiveSpan {
    const api = this.#api
    const within = parent ?? this.current()?.trace
    let otel = api.context.active()
    if (within) {
      const spanContext: Otel.SpanContext = {
        traceId: within.traceId,
        spanId: within.spanId,
        traceFlags: within.flags,
        isRemote: parent !== undefined,
      }
      otel = api.trace.setSpanContext(otel, spanContext)
    }
    const span = this.#tracer.startSpan(name, { kind: spanKind(api, kind), attributes }, otel)
    const made = span.spanContext()
    const recorded = api.isSpanContextValid(made) && made.spanId !== within?.spanId
    const trace: TraceContext = recorded
      ? { traceId: made.traceId, spanId: made.spanId, flags: made.traceFlags }
      : { traceId: within?.traceId ?? newTraceId(), spanId: newSpanId(), flags: within?.flags ?? 1 }
    if (within?.state) trace.state = within.state
    return { trace, span, otel: api.trace.setSpan(otel, span), kind, rpc }
  }

  /** Run `fn` with `active` as the current span (for this code and OpenTelemetry's context). */
  run<T>(active: ActiveSpan, fn: () => T): T {
    return this.#current.run(active, () => this.#api.context.with(active.otel, fn))
  }

  /**
   * End a span, marking it failed when `error` is given: `error.type` (and for RPC spans
   * `rpc.response.status_code`) is the error's code, `200` for an RPC that succeeded. The
   * status is ERROR for every failure seen by a caller, and on the serving side for a
   * server error (5xx, or a thrown plain Error): a 4xx is the caller's mistake.
   */
  end(active: ActiveSpan, error?: unknown): void {
    const span = active.span
    if (error === undefined) {
      if (active.rpc) span.setAttribute('rpc.response.status_code', '200')
    } else {
      const e = MicroError.from(error)
      const code = String(e.code)
      if (active.rpc) span.setAttribute('rpc.response.status_code', code)
      span.setAttribute('error.type', code)
      const serving = active.kind === 'server' || active.kind === 'consumer'
      if (!serving || e.code >= 500 || !(error instanceof MicroError)) {
        span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: e.detail })
        if (error instanceof Error) span.recordException(error)
      }
    }
    span.end()
  }

  /**
   * Run `fn` in `active` and end the span when its result settles (a promise, or an
   * async iterable once exhausted: each step runs in the span too).
   */
  within<T>(active: ActiveSpan, fn: () => T): T {
    let result: T
    try {
      result = this.run(active, fn)
    } catch (error) {
      this.end(active, error)
      throw error
    }
    return onSettled(
      result,
      (error) => this.end(active, error),
      (step) => this.run(active, step),
    )
  }
}

function spanKind(api: typeof Otel, kind: SpanKindName): Otel.SpanKind {
  const kinds = {
    server: api.SpanKind.SERVER,
    client: api.SpanKind.CLIENT,
    internal: api.SpanKind.INTERNAL,
    producer: api.SpanKind.PRODUCER,
    consumer: api.SpanKind.CONSUMER,
  }
  return kinds[kind]
}
