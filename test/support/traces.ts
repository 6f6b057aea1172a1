import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as otel from '@opentelemetry/api'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { MemoryTraceStore, type MemoryTraceStoreOptions } from '../../src/platform/traces/memory-store.js'
import { createOtlpReceiver, type OtlpReceiverOptions } from '../../src/platform/traces/receiver.js'

/** A real OTLP/HTTP receiver on a loopback port, over a fresh store. */
export async function startReceiver(
  storeOptions: MemoryTraceStoreOptions = {},
  receiverOptions: OtlpReceiverOptions = {},
): Promise<{ store: MemoryTraceStore; origin: string; url: string; server: Server; close(): Promise<void> }> {
  const store = new MemoryTraceStore(storeOptions)
  const receiver = createOtlpReceiver(store, receiverOptions)
  const server = createServer((req, res) => {
    if (!receiver.handle(req, res)) {
      res.writeHead(404).end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    store,
    origin,
    url: `${origin}${receiverOptions.path ?? '/v1/traces'}`,
    server,
    close: async () => {
      store.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** The exporters' options; `compression` is typed as the SDK's own enum of these same strings. */
type ExporterOptions = ConstructorParameters<typeof JsonExporter>[0]

/**
 * Make spans with the OpenTelemetry SDK and export them to `url` with its own OTLP/HTTP
 * exporter (JSON or protobuf, optionally gzip): the payload is exactly what real services
 * send.
 */
export async function exportWithSdk(
  url: string,
  format: 'json' | 'protobuf',
  service: string,
  make: (tracer: otel.Tracer) => void,
  compression: 'gzip' | 'none' = 'none',
): Promise<void> {
  const Exporter = format === 'json' ? JsonExporter : ProtoExporter
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.2.3' }),
    spanProcessors: [
      new SimpleSpanProcessor({ exporter: new Exporter({ url, compression } as ExporterOptions) }),
    ],
  })
  make(provider.getTracer('test-sdk', '1.0.0'))
  await provider.forceFlush()
  await provider.shutdown()
}

/** A child context of `span`, to start spans under it with the SDK. */
export function under(span: otel.Span): otel.Context {
  return otel.trace.setSpan(otel.context.active(), span)
}
