import type { ServerResponse } from 'node:http'
import type { HttpRoute, ListenOptions } from '../transport/transport.js'
import type { Extensions } from './extensions.js'

/**
 * The GET routes a service answers on the HTTP side of its port, for load balancers and
 * Kubernetes probes: `/health/live` (200 while the process serves), `/health/ready` and
 * `/health` (200 when the service runs and every check passes, 503 with the failing
 * checks while it starts, drains or a check fails), plus the routes features add
 * (`/metrics`...). Read per request, so routes added later are served.
 */
export function probeRoutes(extensions: Extensions): NonNullable<ListenOptions['routes']> {
  const ready: HttpRoute = async (_req, res) => {
    const report = await extensions.health.report()
    json(res, report.status === 'ok' ? 200 : 503, report)
  }
  const builtIn = new Map<string, HttpRoute>([
    ['/health', ready],
    ['/health/ready', ready],
    ['/health/live', (_req, res) => json(res, 200, { status: 'ok' })],
  ])
  return { get: (path) => extensions.httpRoutes.get(path) ?? builtIn.get(path) }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}
