import type * as Otel from '@opentelemetry/api'

/** An OTLP/JSON AnyValue. */
export type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number | string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } }

export interface OtlpKeyValue {
  key: string
  value: OtlpAnyValue
}

/** An OTLP/JSON span, as the exporter sends it. */
export interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  traceState?: string
  name: string
  /** SpanKind + 1 (OTLP's numbering: 1 internal ... 5 consumer). */
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: OtlpKeyValue[]
  events: { timeUnixNano: string; name: string; attributes: OtlpKeyValue[] }[]
  links: { traceId: string; spanId: string; attributes: OtlpKeyValue[] }[]
  status: { code: number; message?: string }
  flags: number
}

/** Who made the spans: the OTLP resource and scope of every batch from one service. */
export interface OtlpOrigin {
  resource: Record<string, string>
  scope: { name: string; version?: string }
}

/** Attributes as an OTLP KeyValue list. */
export function otlpAttributes(attributes: Otel.Attributes): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = []
  for (const [key, value] of Object.entries(attributes)) {
    const converted = anyValue(value)
    if (converted) out.push({ key, value: converted })
  }
  return out
}

function anyValue(value: Otel.AttributeValue | undefined): OtlpAnyValue | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return { stringValue: value }
  if (typeof value === 'boolean') return { boolValue: value }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { intValue: value } : { doubleValue: value }
  }
  if (Array.isArray(value)) {
    const values: OtlpAnyValue[] = []
    for (const item of value) {
      const converted = anyValue(item ?? undefined)
      if (converted) values.push(converted)
    }
    return { arrayValue: { values } }
  }
  return undefined
}

/** An ExportTraceServiceRequest of one service's spans. */
export function exportRequest(origin: OtlpOrigin, spans: readonly OtlpSpan[]): unknown {
  const attributes = Object.entries(origin.resource).map(([key, value]) => ({
    key,
    value: { stringValue: value },
  }))
  return {
    resourceSpans: [{ resource: { attributes }, scopeSpans: [{ scope: origin.scope, spans }] }],
  }
}
