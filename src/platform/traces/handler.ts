import { badRequest, notFound } from '../../errors/errors.js'
import { DEFAULT_SPAN_LIMITS, decodeExportRequest, type SpanLimits } from './otlp-decode.js'
import type { TraceStore } from './trace-store.js'
import type { TraceDetail, TraceQuery, TraceSummary } from './types.js'

const ID = 'micro.traces'

/**
 * The `Traces` handler of the platform service: what the trace store offers over RPC on
 * the platform port. `Traces.Export` takes an OTLP/JSON ExportTraceServiceRequest as its
 * body, so a service pointed at a platform (MICRO_PLATFORM) with no OTLP endpoint posts
 * its spans to `http://<platform>/Traces/Export` in the very format of `/v1/traces`.
 *
 * ```ts
 * platform.handle(tracesHandler(store), { name: 'Traces' })
 * ```
 */
export function tracesHandler(store: TraceStore, limits: SpanLimits = DEFAULT_SPAN_LIMITS) {
  return {
    /** Add spans: an OTLP/JSON ExportTraceServiceRequest. Answers an ExportTraceServiceResponse. */
    async Export(
      req: unknown,
    ): Promise<{ partialSuccess?: { rejectedSpans: string; errorMessage?: string } }> {
      let decoded: ReturnType<typeof decodeExportRequest>
      try {
        decoded = decodeExportRequest(req, 'hex', limits)
      } catch (error) {
        throw badRequest(ID, (error as Error).message)
      }
      store.add(decoded.spans)
      if (decoded.rejected === 0) return {}
      return {
        partialSuccess: {
          rejectedSpans: String(decoded.rejected),
          errorMessage: `${decoded.rejected} spans refused: ${decoded.reason}`,
        },
      }
    },

    /** Traces, newest first: `{service?, endpoint?, status?, minDuration?, since?, limit? ...}`. */
    async List(req: TraceQuery | undefined): Promise<{ traces: TraceSummary[] }> {
      return { traces: store.list(queryOf(req)) }
    },

    /** One trace's spans in waterfall order: `{traceId}`. */
    async Get(req: { traceId?: unknown } | undefined): Promise<TraceDetail> {
      const traceId = req?.traceId
      if (typeof traceId !== 'string' || !/^[0-9a-fA-F]{32}$/.test(traceId)) {
        throw badRequest(ID, 'traceId must be 32 hex digits')
      }
      const trace = store.get(traceId)
      if (!trace)
        throw notFound(ID, `trace ${traceId.toLowerCase()} is not held (never received, or evicted)`)
      return trace
    },
  }
}

/** Only the known fields, each of its type: a request cannot slip anything else into a query. */
function queryOf(req: unknown): TraceQuery {
  if (typeof req !== 'object' || req === null) return {}
  const r = req as Record<string, unknown>
  const query: TraceQuery = {}
  if (typeof r.service === 'string') query.service = r.service
  if (typeof r.endpoint === 'string') query.endpoint = r.endpoint
  if (r.status === 'ok' || r.status === 'error') query.status = r.status
  for (const key of ['minDuration', 'maxDuration', 'since', 'until', 'limit'] as const) {
    const value = r[key]
    if (typeof value === 'number' && Number.isFinite(value)) query[key] = value
  }
  return query
}
