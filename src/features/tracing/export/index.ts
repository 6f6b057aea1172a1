import type * as Otel from '@opentelemetry/api'
import type { ServiceInfo } from '../../../definition/deps.js'
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
 * from many services in one process stay apart.
 */
export function startExport(
  api: typeof Otel,
  service: Pick<ServiceInfo, 'name' | 'version' | 'namespace'>,
  target: ExportTarget,
  logger: Logger,
): StartedExport {
  const exporter = new BatchExporter({
    target,
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
  return { tracer, exporter, stop: () => exporter.shutdown() }
}
