import type { Feature, FeatureInstance } from '../../definition/feature.js'
import type { Carrier, TracingApi } from './api.js'
import { tracingBroker } from './broker.js'
import { Spans } from './spans.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'
import { tracingClientWrapper, tracingHttpMiddleware, tracingServerWrapper } from './wrappers.js'

/** `[features.tracing]` has no settings yet; exporters are configured with the OpenTelemetry SDK. */
export type TracingConfig = Record<string, never>

/**
 * The tracing feature: spans through the OpenTelemetry API around every RPC call served
 * and made, and every HTTP request, with the W3C trace context (`traceparent`,
 * `tracestate`) carried in call metadata and HTTP headers. Register an OpenTelemetry SDK
 * to export spans; without one, ids are still made and propagated.
 *
 * Publishes through `deps.broker` carry the context in message headers and deliveries
 * continue it. For other carriers (events metadata, other protocols) use
 * `features.tracing.inject(carrier)` and `features.tracing.continueFrom(carrier, name, fn)`.
 */
export const tracingFeature: Feature<TracingConfig, TracingApi> = {
  name: 'tracing',
  configure(): TracingConfig {
    return {}
  },
  async init(ctx): Promise<FeatureInstance<TracingApi>> {
    const api = await import('@opentelemetry/api')
    const spans = new Spans(api, ctx.service.name, ctx.service.version)
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
    return { api: tracing }
  },
}
