import type * as Otel from '@opentelemetry/api'
import type { ServiceInfo } from '../../../definition/deps.js'
import { acquirePlatform } from '../../../engines/platform.js'
import type { Logger } from '../../../logger/logger.js'
import type { ExportTarget } from '../target.js'
import { BatchExporter } from './batch-exporter.js'
import { RecordingTracer } from './recorder.js'

/** A service's own tracer and the exporter behind it. */
export interface StartedExport {
  tracer: Otel.Tracer
  exporter: BatchExporter
  /** Send what is queued (bounded by the request timeout) and stop. */
  stop(): Promise<void>
}

/**
 * Record this service's spans and export them to `target` as OTLP/JSON. The resource
 * names the service (`service.name`, `service.version`, `service.namespace`), so spans
 * from many services in one process stay apart. To a platform's `Traces.Export`
 * (`target.platform`) they go over the platform client the `service` engines share (the
 * micro protocol, over TLS when the process has TLS), with the service's platform token
 * (refreshed as it refreshes) and its namespace, whose rules the platform checks them
 * against: a service account of the namespace may export.
 */
export function startExport(
  api: typeof Otel,
  service: Pick<ServiceInfo, 'name' | 'version' | 'namespace'>,
  target: ExportTarget,
  logger: Logger,
): StartedExport {
  const link = target.platform === undefined ? undefined : acquirePlatform(target.platform)
  // The namespace names whose rules the platform checks the export against.
  const metadata = { 'micro-namespace': service.namespace }
  const exporter = new BatchExporter({
    target,
    token: link ? () => link.token() : undefined,
    // Over the platform's own client: its TLS (a TLS platform speaks nothing else) and token.
    deliver: link
      ? (body, timeout) => link.call('Traces.Export', body, { timeout, retries: 0, metadata })
      : undefined,
    logger,
    origin: {
      resource: {
        'service.name': service.name,
        'service.version': service.version,
        'service.namespace': service.namespace,
        'telemetry.sdk.name': 'micro-ts',
        'telemetry.sdk.language': 'nodejs',
      },
      scope: { name: 'micro-ts' },
    },
  })
  const tracer = new RecordingTracer(api, (span) => exporter.add(span))
  return {
    tracer,
    exporter,
    stop: async () => {
      try {
        await exporter.shutdown()
      } finally {
        await link?.release()
      }
    },
  }
}
