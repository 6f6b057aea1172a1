import type { Client } from '../../client/client.js'
import { createDashboard } from '../../dashboard/api/dashboard.js'
import type { RuntimeSource } from '../../dashboard/sources.js'
import type { Events } from '../../events/events.js'
import type { Logger } from '../../logger/logger.js'
import type { Registry } from '../../registry/registry.js'
import type { Store } from '../../store/store.js'
import { createGateway } from '../gateway/gateway.js'
import type { GatewayOptions } from '../gateway/options.js'
import { createOpenApiHandler } from '../openapi/handler.js'
import { createOtlpReceiver } from '../traces/receiver.js'
import type { TraceStore } from '../traces/trace-store.js'
import { serverDashboardSources } from './dashboard-sources.js'
import { type PlatformHttp, platformHttp } from './http.js'

/** What `micro run`'s HTTP side is made of: its registry and whatever blocks it has. */
export interface DevHttpParts {
  registry: Registry
  /** How the dashboard's explorer calls (a Client on the registry). */
  client: Client
  namespace: string
  /** Spans services export (`OTEL_EXPORTER_OTLP_ENDPOINT=http://<address>`): `/v1/traces` and the trace pages. */
  traces?: TraceStore
  /** The dev loop's services as the dashboard's runtime (status, logs, restart, stop). */
  runtime?: RuntimeSource
  store?: Store
  events?: Events
  /** The variables (MICRO_CONFIG_SECRET_KEY for the config page). */
  env?: NodeJS.ProcessEnv
  /** More gateway options (CORS, limits); the registry and namespace above win. */
  gateway?: Omit<GatewayOptions, 'registry' | 'namespace'>
  logger?: Logger
}

/**
 * The gateway, dashboard, OTLP receiver and OpenAPI document over the given parts, without
 * auth (the dev loop binds loopback): what `micro run` mounts with `mountHttp`, the same
 * router `micro server` listens with. Close it to cancel the dashboard's streams and close
 * the gateway.
 */
export function devPlatformHttp(parts: DevHttpParts): PlatformHttp {
  const gateway = createGateway({
    ...parts.gateway,
    registry: parts.registry,
    namespace: parts.namespace,
    logger: parts.logger,
  })
  const sources = serverDashboardSources({
    registry: parts.registry,
    client: parts.client,
    store: parts.store,
    events: parts.events,
    traces: parts.traces,
    env: parts.env ?? process.env,
  })
  if (parts.runtime) sources.runtime = parts.runtime
  return platformHttp({
    gateway,
    dashboard: createDashboard(sources, { namespace: parts.namespace }),
    traces: parts.traces ? createOtlpReceiver(parts.traces) : undefined,
    openapi: createOpenApiHandler(parts.registry, { namespace: parts.namespace }),
  })
}
