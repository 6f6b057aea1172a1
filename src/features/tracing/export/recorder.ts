import { randomFillSync } from 'node:crypto'
import type * as Otel from '@opentelemetry/api'
import { type OtlpKeyValue, type OtlpSpan, otlpAttributes } from './otlp-json.js'

/** Caps on one span, so a loop adding attributes cannot grow a span without bound. */
const MAX_ATTRIBUTES = 128
const MAX_EVENTS = 128
const MAX_LINKS = 128

/** Where ended spans go (the batch exporter). */
export type SpanSink = (span: OtlpSpan) => void

/**
 * A minimal OpenTelemetry Tracer that records spans as OTLP/JSON span objects and hands
 * each to `sink` when it ends. It is what the tracing feature uses to export by itself
 * (a fraction of the SDK's start-up cost): always-on sampling that follows the parent's
 * sampled flag, W3C ids, attributes, events, links, status and exceptions.
 */
export class RecordingTracer implements Otel.Tracer {
  readonly #api: typeof Otel
  readonly #sink: SpanSink

  constructor(api: typeof Otel, sink: SpanSink) {
    this.#api = api
    this.#sink = sink
  }

  startSpan(name: string, options: Otel.SpanOptions = {}, context?: Otel.Context): Otel.Span {
    const api = this.#api
    const parent = options.root ? undefined : api.trace.getSpanContext(context ?? api.context.active())
    const valid = parent !== undefined && api.isSpanContextValid(parent)
    const traceId = valid ? parent.traceId : randomHex(16)
    const spanId = randomHex(8)
    const sampled = valid ? (parent.traceFlags & api.TraceFlags.SAMPLED) !== 0 : true
    const spanContext: Otel.SpanContext = {
      traceId,
      spanId,
      traceFlags: sampled ? api.TraceFlags.SAMPLED : api.TraceFlags.NONE,
      ...(valid && parent.traceState ? { traceState: parent.traceState } : {}),
    }
    // Not sampled upstream: carry the ids on, record nothing.
    if (!sampled) return api.trace.wrapSpanContext(spanContext)
    const span = new RecordedSpan(spanContext, name, options.kind ?? api.SpanKind.INTERNAL, this.#sink)
    if (valid) span.parentSpanId = parent.spanId
    span.started = nanos(options.startTime)
    if (options.attributes) span.setAttributes(options.attributes)
    for (const link of options.links ?? []) span.addLink(link)
    return span
  }

  startActiveSpan<F extends (span: Otel.Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest.pop() as F
    const [options, context] = rest as [Otel.SpanOptions | undefined, Otel.Context | undefined]
    const base = context ?? this.#api.context.active()
    const span = this.startSpan(name, options, base)
    const run = fn as (span: Otel.Span) => ReturnType<F>
    return this.#api.context.with(this.#api.trace.setSpan(base, span), run, undefined, span)
  }
}

class RecordedSpan implements Otel.Span {
  parentSpanId: string | undefined
  started = 0n
  readonly #context: Otel.SpanContext
  #name: string
  readonly #kind: Otel.SpanKind
  readonly #sink: SpanSink
  readonly #attributes: Otel.Attributes = {}
  #attributeCount = 0
  readonly #events: OtlpSpan['events'] = []
  readonly #links: OtlpSpan['links'] = []
  #status: Otel.SpanStatus | undefined
  #ended = false

  constructor(context: Otel.SpanContext, name: string, kind: Otel.SpanKind, sink: SpanSink) {
    this.#context = context
    this.#name = name
    this.#kind = kind
    this.#sink = sink
  }

  spanContext(): Otel.SpanContext {
    return this.#context
  }

  setAttribute(key: string, value: Otel.SpanAttributeValue | undefined): this {
    if (this.#ended || value === undefined) return this
    if (!(key in this.#attributes)) {
      if (this.#attributeCount >= MAX_ATTRIBUTES) return this
      this.#attributeCount++
    }
    this.#attributes[key] = value
    return this
  }

  setAttributes(attributes: Otel.SpanAttributes): this {
    for (const [key, value] of Object.entries(attributes)) this.setAttribute(key, value)
    return this
  }

  addEvent(
    name: string,
    attributesOrTime?: Otel.SpanAttributes | Otel.TimeInput,
    time?: Otel.TimeInput,
  ): this {
    if (this.#ended || this.#events.length >= MAX_EVENTS) return this
    const timeGiven = isTimeInput(attributesOrTime)
    const attributes = timeGiven ? undefined : (attributesOrTime as Otel.SpanAttributes | undefined)
    this.#events.push({
      timeUnixNano: nanos(timeGiven ? (attributesOrTime as Otel.TimeInput) : time).toString(),
      name,
      attributes: otlpAttributes(attributes ?? {}),
    })
    return this
  }

  addLink(link: Otel.Link): this {
    if (this.#ended || this.#links.length >= MAX_LINKS) return this
    this.#links.push({
      traceId: link.context.traceId,
      spanId: link.context.spanId,
      attributes: otlpAttributes(link.attributes ?? {}),
    })
    return this
  }

  addLinks(links: Otel.Link[]): this {
    for (const link of links) this.addLink(link)
    return this
  }

  setStatus(status: Otel.SpanStatus): this {
    if (!this.#ended) this.#status = status
    return this
  }

  updateName(name: string): this {
    if (!this.#ended) this.#name = name
    return this
  }

  isRecording(): boolean {
    return !this.#ended
  }

  recordException(exception: Otel.Exception, time?: Otel.TimeInput): void {
    const attributes: Otel.SpanAttributes = {}
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception
    } else {
      if (exception.name) attributes['exception.type'] = exception.name
      if (exception.message) attributes['exception.message'] = exception.message
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack
    }
    this.addEvent('exception', attributes, time)
  }

  end(endTime?: Otel.TimeInput): void {
    if (this.#ended) return
    this.#ended = true
    const ended = nanos(endTime)
    const attributes: OtlpKeyValue[] = otlpAttributes(this.#attributes)
    const span: OtlpSpan = {
      traceId: this.#context.traceId,
      spanId: this.#context.spanId,
      name: this.#name,
      kind: this.#kind + 1,
      startTimeUnixNano: this.started.toString(),
      endTimeUnixNano: (ended < this.started ? this.started : ended).toString(),
      attributes,
      events: this.#events,
      links: this.#links,
      status: this.#status ? { code: this.#status.code, message: this.#status.message } : { code: 0 },
      flags: this.#context.traceFlags,
    }
    if (this.parentSpanId) span.parentSpanId = this.parentSpanId
    if (this.#context.traceState) span.traceState = this.#context.traceState.serialize()
    this.#sink(span)
  }
}

function isTimeInput(value: unknown): value is Otel.TimeInput {
  return typeof value === 'number' || value instanceof Date || (Array.isArray(value) && value.length === 2)
}

/**
 * A time as nanoseconds since the epoch. Without one: now, from the high-resolution clock.
 * Numbers below 1e12 are performance.now() readings (as the SDK reads them), larger ones
 * epoch milliseconds.
 */
function nanos(time?: Otel.TimeInput): bigint {
  if (Array.isArray(time)) return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])
  let ms: number
  if (time instanceof Date) ms = time.getTime()
  else if (typeof time === 'number') ms = time < 1e12 ? performance.timeOrigin + time : time
  else ms = performance.timeOrigin + performance.now()
  const whole = Math.floor(ms)
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6))
}

// Random ids come from a pool refilled 4 KiB at a time: one syscall per ~500 spans.
const pool = Buffer.alloc(4096)
let poolAt = pool.length

function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    randomFillSync(pool)
    poolAt = 0
  }
  const hex = pool.toString('hex', poolAt, poolAt + bytes)
  poolAt += bytes
  // All-zero ids are invalid; the odds are nil, but the rule is absolute.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex
}
