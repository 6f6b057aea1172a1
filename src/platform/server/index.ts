/**
 * `micro server`: the platform in one process. `startServer` composes the gateway,
 * dashboard, OTLP receiver, OpenAPI document and JWKS on the HTTP port with the platform
 * service (the building blocks, Runtime, Auth, Traces, Proxy) on the platform port;
 * `platformHttp` / `devPlatformHttp` build the same HTTP side for `micro run`. See README.md.
 *
 * @module
 */
export { childEnv } from './child-env.js'
export { DashboardAuthority } from './dashboard-auth.js'
export { runtimeSource } from './dashboard-runtime.js'
export { guardedStore, type ServerDashboardParts, serverDashboardSources } from './dashboard-sources.js'
export { traceSource } from './dashboard-traces.js'
export { gatewayAuthorize, registryScopes, type ScopesOf } from './gateway-auth.js'
export { type PathHandler, type PlatformHttp, type PlatformHttpParts, platformHttp } from './http.js'
export { type DevHttpParts, devPlatformHttp } from './mount.js'
export {
  DEFAULT_HTTP_ADDRESS,
  DEFAULT_PLATFORM_PORT_ADDRESS,
  HTTP_ADDRESS_ENV,
  PLATFORM_ADDRESS_ENV,
  type ServerOptions,
  type ServerSettings,
  serverSettings,
} from './options.js'
export { type MicroServer, type ServerParts, startServer } from './server.js'
