import type { AuthMode } from '../../auth/auth.js'
import type { Authority } from '../../auth/authority.js'
import { bootstrapLine } from '../../auth/mode.js'
import { brokerFromEnv } from '../../broker/from-env.js'
import { Client } from '../../client/client.js'
import { createDashboard } from '../../dashboard/api/dashboard.js'
import { eventsFromEnv } from '../../events/from-env.js'
import { createLogger } from '../../logger/logger.js'
import { RegistryCache } from '../../registry/cache.js'
import { registryFromEnv } from '../../registry/from-env.js'
import { createSelector } from '../../selector/from-name.js'
import { storeFromEnv } from '../../store/from-env.js'
import { createTransport } from '../../transport/from-env.js'
import { createGateway } from '../gateway/gateway.js'
import { type HttpListener, listenHttp } from '../http/listen.js'
import type { HttpPart } from '../http/router.js'
import { createOpenApiHandler } from '../openapi/handler.js'
import { LocalRuntime } from '../runtime/local.js'
import { Runtime } from '../runtime/service.js'
import { type PlatformService, startPlatformService } from '../services/platform.js'
import { tracesHandler } from '../traces/handler.js'
import { createTraceStore } from '../traces/index.js'
import { createOtlpReceiver } from '../traces/receiver.js'
import { childEnv } from './child-env.js'
import { DashboardAuthority } from './dashboard-auth.js'
import { serverDashboardSources } from './dashboard-sources.js'
import { DeferredRuntime } from './deferred-runtime.js'
import { gatewayAuthorize, registryScopes } from './gateway-auth.js'
import { metricsReader, requireToken } from './guard-http.js'
import { platformHttp } from './http.js'
import { addressInUse } from './listen-errors.js'
import { gatewayLogin } from './login-route.js'
import { serverMcp } from './mcp-part.js'
import { type ServerOptions, serverSettings } from './options.js'
import { openServerAuth } from './server-auth.js'

/** A running `micro server`. */
export interface MicroServer {
  /** HTTP `host:port` bound: dashboard, gateway, OTLP, OpenAPI, JWKS. */
  readonly address: string
  /** Platform port `host:port` bound. */
  readonly platformAddress: string
  readonly mode: AuthMode
  /** The `micro login --token <token>` line of a first start that enforces auth (print it once, on stdout). */
  readonly bootstrap: string | undefined
  readonly platform: PlatformService
  /** The platform's auth: accounts, rules, keys (embedders and tests create accounts with it). */
  readonly authority: Authority
  /** Drain everything: HTTP, the runtime's services, the platform port, the engines. */
  close(): Promise<void>
}

/** Parts of the server given instead of its own. */
export interface ServerParts {
  /** `/mcp`: default the MCP server over the namespace's services (`false`: none). */
  mcp?: HttpPart | false
}

/**
 * Start `micro server`: HTTP (dashboard at `/`, gateway under `/api/`, `/rpc`,
 * `/openapi.json`, `/v1/traces`, `/health/*`, `/metrics`, the JWKS, WebSocket and SSE) and
 * the platform port (the building blocks, `Runtime`, `Auth`, `Traces`, `Proxy` as the
 * `platform` service), on the engines the server's `MICRO_*` variables name (the embedded,
 * file-backed defaults otherwise). Auth follows the bind addresses unless told.
 * Resolves once both ports listen and the runtime has started again what it ran before.
 */
export async function startServer(options: ServerOptions & ServerParts = {}): Promise<MicroServer> {
  const settings = serverSettings(options)
  const { env } = settings
  const logger = options.logger ?? createLogger({ fields: { service: 'micro-server' } })
  const closers: (() => Promise<void> | void)[] = []
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) {
      try {
        await close()
      } catch (error) {
        logger.warn('micro server: a part failed to close', { error: (error as Error).message })
      }
    }
  }
  try {
    const registry = registryFromEnv(env)
    closers.push(() => registry.close())
    const store = storeFromEnv(env)
    closers.push(() => store.close())
    const broker = brokerFromEnv({ registry, logger }, env)
    closers.push(() => broker.close())
    const events = eventsFromEnv(env, { logger })
    closers.push(() => events.close())
    const cache = new RegistryCache(registry)
    closers.push(() => cache.close())
    const scopesOf = registryScopes(cache)

    const auth = await openServerAuth(settings, store, scopesOf, logger)
    closers.push(() => auth.close())
    const { authority } = auth

    const traces = createTraceStore({}, env)
    closers.push(() => traces.close())
    const runtime = new DeferredRuntime()

    const platform = await startPlatformService({
      address: settings.platformAddress,
      registry,
      broker,
      events,
      store,
      env,
      logger,
      extensions: auth.extensions,
      handlers: [new Runtime(runtime)],
      setup: (service) => {
        auth.setup(service)
        service.handle(tracesHandler(traces), { name: 'Traces' })
      },
    }).catch((error: unknown) => {
      throw addressInUse(error, settings.platformAddress, 'platform port', '--platform-address')
    })
    closers.push(() => platform.close())

    const client = new Client({
      lookup: cache,
      transport: createTransport(env.MICRO_TRANSPORT, env.MICRO_TRANSPORT_ADDRESS),
      selector: createSelector(env.MICRO_SELECTOR || undefined),
      namespace: settings.namespace,
      local: false,
      caller: 'micro.dashboard',
    })
    closers.push(() => client.close())
    const dashboardAuth = new DashboardAuthority(authority, { namespace: settings.namespace, scopesOf })
    const dashboard = createDashboard(
      serverDashboardSources({
        registry,
        client,
        store,
        events,
        traces,
        runtime,
        auth: dashboardAuth,
        guardAuthDatabase: auth.shared,
        env,
      }),
      {
        namespace: settings.namespace,
        readOnly: settings.readOnly,
        auth: settings.mode === 'enforce' ? dashboardAuth : undefined,
      },
    )
    const gateway = createGateway({
      registry,
      namespace: settings.namespace,
      authorize: gatewayAuthorize(auth.gatewayAuthorizer, scopesOf, settings.namespace),
      logger: logger.child({ component: 'gateway' }),
    })
    const enforced = settings.mode === 'enforce'
    let mcp = options.mcp === false ? undefined : options.mcp
    if (options.mcp === undefined) {
      const own = serverMcp({
        registry,
        client,
        namespace: settings.namespace,
        authorizer: auth.gatewayAuthorizer,
        logger,
      })
      closers.push(() => own.close())
      mcp = own
    }
    const otlp = createOtlpReceiver(traces)
    const openapi = createOpenApiHandler(registry, { namespace: settings.namespace })
    const http = platformHttp({
      gateway,
      dashboard,
      jwks: auth.jwks,
      traces: enforced ? requireToken(otlp, '/v1/traces', authority.verifier) : otlp,
      openapi: enforced ? requireToken(openapi, '/openapi.json', authority.verifier) : openapi,
      mcp,
      // Enforcing, the gateway's /metrics (its counters name every namespace's services) is for
      // micro's admins and accounts holding `metrics` (a Prometheus scraper's bearer token).
      more: enforced
        ? [
            gatewayLogin(platform.service),
            requireToken(gateway, '/metrics', authority.verifier, metricsReader),
          ]
        : [gatewayLogin(platform.service)],
    })
    closers.push(() => http.close())
    let listener: HttpListener
    try {
      listener = await listenHttp(settings.address, http, gateway.settings.limits)
    } catch (error) {
      throw addressInUse(error, settings.address, 'HTTP address', '--address')
    }
    closers.push(() => listener.close())

    // The runtime starts last: the services it ran before come up against a listening platform.
    const local = await LocalRuntime.open({
      store,
      dir: settings.runtimeDir,
      env: childEnv(env, { platform: platform.address }),
      identities: auth.identities,
    }).catch((error: unknown) => {
      runtime.fail(error as Error)
      throw error
    })
    runtime.resolve(local)
    closers.push(() => local.close())

    const token = enforced ? await authority.bootstrap() : undefined
    let closing: Promise<void> | undefined
    return {
      address: listener.address,
      platformAddress: platform.address,
      mode: settings.mode,
      bootstrap: token === undefined ? undefined : bootstrapLine(token),
      platform,
      authority,
      close() {
        closing ??= closeAll()
        return closing
      },
    }
  } catch (error) {
    await closeAll()
    throw error
  }
}
