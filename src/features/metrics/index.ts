import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Feature, FeatureInstance } from '../../definition/feature.js'
import type { TableReader } from '../../definition/table.js'
import type { MetricsApi } from './api.js'
import { RequestMetrics } from './instruments.js'
import { METRICS_CONTENT_TYPE, MetricsRegistry } from './registry.js'

/** `[features.metrics]` */
export interface MetricsConfig {
  /** Serve on a listener of its own at this port (0: any free port). */
  port: number | undefined
  host: string
  path: string
}

/** The port of the metrics listener when the service has no http kind and sets none (OpenTelemetry's Prometheus default). */
export const DEFAULT_METRICS_PORT = 9464

/**
 * The metrics feature: request count, latency histogram and in-flight gauge for every RPC
 * endpoint and HTTP request, the process, GC and event-loop metrics of prom-client, and
 * the service's own metrics (`features.metrics.counter` ...), in the Prometheus text format. Served at `path` (default `/metrics`): on the http
 * kind when the service runs one and sets no `port`; otherwise on a listener of its own
 * at `host:port` (default 127.0.0.1:9464), opened when the service starts.
 */
export const metricsFeature: Feature<MetricsConfig, MetricsApi> = {
  name: 'metrics',
  configure(reader: TableReader): MetricsConfig {
    const path = reader.string('path') ?? '/metrics'
    if (!path.startsWith('/'))
      reader.problem('path', `"${path}" must start with /`, `write path = "/${path}"`)
    return { port: reader.integer('port', 0, 65535), host: reader.string('host') ?? '127.0.0.1', path }
  },
  init(ctx): FeatureInstance<MetricsApi> {
    const registry = new MetricsRegistry()
    const requests = new RequestMetrics(registry, ctx.service.name)
    ctx.extensions.serverWrappers.push(requests.serverWrapper())
    ctx.extensions.httpMiddleware.push(requests.httpMiddleware())
    const serve = (_req: IncomingMessage, res: ServerResponse) => {
      registry.text().then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
        (error: unknown) => {
          ctx.logger.error('metrics could not be read', { error: String(error) })
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be read\n')
        },
      )
    }
    const { config } = ctx
    const onHttpKind = config.port === undefined && ctx.service.kinds.includes('http')
    if (onHttpKind) ctx.extensions.httpRoutes.set(config.path, serve)
    let server: Server | undefined
    let address: string | undefined
    const api: MetricsApi = {
      counter: registry.counter.bind(registry),
      gauge: registry.gauge.bind(registry),
      histogram: registry.histogram.bind(registry),
      text: () => registry.text(),
      get address() {
        return address
      },
    }
    return {
      api,
      async start() {
        if (onHttpKind) return
        const { createServer } = await import('node:http')
        const listener = createServer((req, res) => {
          if (
            (req.url ?? '/').split('?', 1)[0] === config.path &&
            (req.method === 'GET' || req.method === 'HEAD')
          ) {
            serve(req, res)
          } else {
            res.writeHead(404, { 'content-type': 'text/plain' }).end(`metrics are at ${config.path}\n`)
          }
        })
        await new Promise<void>((resolve, reject) => {
          listener.once('error', reject)
          listener.listen(config.port ?? DEFAULT_METRICS_PORT, config.host, () => resolve())
        })
        server = listener
        const { port } = listener.address() as { port: number }
        address = `http://${config.host}:${port}${config.path}`
        ctx.logger.info(`metrics are served on ${address}`)
      },
      async stop() {
        const listener = server
        server = undefined
        if (!listener) return
        await new Promise<void>((resolve) => {
          listener.close(() => resolve())
          listener.closeAllConnections()
        })
      },
    }
  },
}
