import type { Feature, FeatureInstance } from '../../definition/feature.js'
import type { Carrier, TracingApi } from './api.js'
import { tracingBroker } from './broker.js'
import { Spans } from './spans.js'
import { type ExportTarget, exportTargetFromEnv } from './target.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'
import { tracingClientWrapper, tracingHttpMiddleware, tracingServerWrapper } from './wrappers.js'

/** `[features.tracing]`: where spans are exported. */
export interface TracingConfig {
  /** An OTLP/HTTP traces URL taking JSON (`http://host:4318/v1/traces`); default from the environment. */
  endpoint?: string
  /** Request headers for the endpoint (a token); never logged. */
  headers?: Record<string, string>
  /** `false`: never export (only propagate context, or leave exporting to your own SDK). */
  export?: boolean
}

/**
 * The tracing feature: spans through the OpenTelemetry API around every RPC call served
 * and made, every HTTP request, publish and delivery, with the W3C trace context
 * (`traceparent`, `tracestate`) carried in call metadata, HTTP and message headers.
 *
 * Export: with an endpoint (`endpoint`, else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * OTEL_EXPORTER_OTLP_ENDPOINT, or a platform named by MICRO_PLATFORM) spans are batched
 * and posted as OTLP/JSON by a small built-in exporter, loaded only then. An OpenTelemetry
 * SDK registered globally takes precedence over an endpoint from the environment (it reads
 * the same variables). With neither, ids are still made and propagated.
 *
 * For other carriers (events metadata, other protocols) use
 * `features.tracing.inject(carrier)` and `features.tracing.continueFrom(carrier, name, fn)`.
 */
export const tracingFeature: Feature<TracingConfig, TracingApi> = {
  name: 'tracing',
  configure(reader): TracingConfig {
    const config: TracingConfig = {}
    const endpoint = reader.string('endpoint', 'set endpoint = "http://127.0.0.1:4318/v1/traces"')
    if (endpoint !== undefined) {
      if (!/^https?:\/\/[^\s]+$/.test(endpoint)) {
        reader.problem(
          'endpoint',
          'must be an http:// or https:// URL',
          'set endpoint = "http://host:4318/v1/traces"',
        )
      } else config.endpoint = endpoint
    }
    const headers = reader.table('headers')
    if (headers !== undefined) {
      config.headers = {}
      for (const [key, value] of Object.entries(headers)) {
        if (typeof value === 'string') config.headers[key.toLowerCase()] = value
        else reader.problem(`headers.${key}`, 'must be a string')
      }
    }
    const exporting = reader.boolean('export')
    if (exporting !== undefined) config.export = exporting
    return config
  },
  async init(ctx): Promise<FeatureInstance<TracingApi>> {
    const api = await import('@opentelemetry/api')
    const target = exportTarget(ctx.config, api, ctx.variables ?? process.env)
    let tracer = api.trace.getTracer(ctx.service.name, ctx.service.version)
    let stopExport: (() => Promise<void>) | undefined
    if (target) {
      const { startExport } = await import('./export/index.js')
      const started = startExport(api, ctx.service, target, ctx.logger)
      tracer = started.tracer
      stopExport = started.stop
    }
    const spans = new Spans(api, tracer)
    ctx.extensions.serverWrappers.push(tracingServerWrapper(spans))
    ctx.extensions.clientWrappers.push(tracingClientWrapper(spans))
    ctx.extensions.httpMiddleware.push(tracingHttpMiddleware(spans))
    ctx.extensions.brokerWrappers.push(tracingBroker(spans))
    const tracing: TracingApi = {
      traceId: () => spans.current()?.trace.traceId,
      traceparent() {
        const current = spans.current()
        return current ? formatTraceparent(current.trace) : undefined
      },
      inject<C extends Carrier>(carrier: C): C {
        const current = spans.current()
        if (current) {
          ;(carrier as Carrier).traceparent = formatTraceparent(current.trace)
          if (current.trace.state) (carrier as Carrier).tracestate = current.trace.state
        }
        return carrier
      },
      continueFrom: (carrier, name, fn) =>
        spans.within(
          spans.start(name, 'consumer', parseTraceparent(carrier.traceparent, carrier.tracestate)),
          fn,
        ),
      span: (name, fn) => spans.within(spans.start(name, 'internal'), fn),
    }
    // Spans still queued are sent before the service's blocks close.
    return { api: tracing, stop: stopExport }
  },
}

/**
 * Where to export: the configured endpoint; else the environment's, unless an SDK was
 * registered globally (it exports by itself) or `export = false`.
 */
function exportTarget(
  config: TracingConfig,
  api: typeof import('@opentelemetry/api'),
  variables: NodeJS.ProcessEnv,
): ExportTarget | undefined {
  if (config.export === false) return undefined
  if (config.endpoint) return { url: config.endpoint, headers: config.headers ?? {} }
  if (sdkRegistered(api)) return undefined
  return exportTargetFromEnv(variables)
}

/** Whether a TracerProvider other than the API's no-op one was registered globally. */
function sdkRegistered(api: typeof import('@opentelemetry/api')): boolean {
  const provider = api.trace.getTracerProvider() as { getDelegate?: () => object }
  const delegate = provider.getDelegate?.() ?? provider
  return delegate.constructor?.name !== 'NoopTracerProvider'
}
