import type { ServerResponse } from 'node:http'
import type { Feature, FeatureInstance } from '../../definition/feature.js'
import type { TableReader } from '../../definition/table.js'
import { serviceUnavailable } from '../../errors/errors.js'
import type { HealthApi, HealthReport } from './api.js'

/** `[features.health]` */
export interface HealthConfig {
  /** How long one readiness check may take, ms (default 2 s). */
  timeout: number
}

/**
 * The health feature: liveness and readiness with checks the service adds
 * (`features.health.addCheck`). On the http kind: `/health/live` (200 while the process
 * serves) and `/health/ready` (200, or 503 with the failing checks); `/health` then
 * includes the checks too. On the rpc kind: `Health.Live` and `Health.Ready` (a 503 when
 * not ready). Ready means every kind started, the service is not stopping, and every
 * check passes.
 */
export const healthFeature: Feature<HealthConfig, HealthApi> = {
  name: 'health',
  configure(reader: TableReader): HealthConfig {
    return { timeout: reader.duration('timeout') ?? 2000 }
  },
  init(ctx): FeatureInstance<HealthApi> {
    const state = ctx.extensions.health
    state.timeoutMs = ctx.config.timeout
    const report = () => state.report() as Promise<HealthReport>
    const json = (res: ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    ctx.extensions.httpRoutes.set('/health/live', (_req, res) => json(res, 200, { status: 'ok' }))
    ctx.extensions.httpRoutes.set('/health/ready', async (_req, res) => {
      const r = await report()
      json(res, r.status === 'ok' ? 200 : 503, r)
    })
    const service = ctx.service.name
    ctx.extensions.rpcHandlers.push({
      target: {
        Live: async () => ({ status: 'ok' }),
        Ready: async () => {
          const r = await report()
          if (r.status !== 'ok') throw serviceUnavailable(service, `not ready: ${JSON.stringify(r.checks)}`)
          return r
        },
      },
      options: { name: 'Health' },
    })
    const api: HealthApi = {
      addCheck(name, check) {
        if (typeof check !== 'function') throw new TypeError(`health check ${name} must be a function`)
        state.checks.set(name, check)
      },
      removeCheck(name) {
        state.checks.delete(name)
      },
      report,
    }
    return { api }
  },
}
