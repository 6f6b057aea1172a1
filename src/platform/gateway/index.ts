/**
 * The HTTP gateway: Micro v3's `/api/` path rules, `POST /rpc`, WebSocket and SSE for
 * streams, CORS from an allow-list, per-client rate limits, health and metrics.
 *
 * ```ts
 * import { serveGateway } from 'micro-ts/gateway'
 * const { address } = await serveGateway({ address: '127.0.0.1:8080' })
 * // curl -XPOST localhost:8080/api/greeter/hello -d '{"name":"Alice"}'
 * ```
 * @module micro-ts/gateway
 */
export { type HttpPart, HttpRouter, type PrefixHandler } from '../http/router.js'
// The gateway's auth hook as `micro server` builds it (over an Authority's authorizer).
export { gatewayAuthorize, registryScopes, type ScopesOf } from '../server/gateway-auth.js'
export { createGateway, Gateway } from './gateway.js'
export { DEFAULT_METADATA_HEADERS } from './metadata.js'
export { BuiltinGatewayMetrics, type GatewayMetrics } from './metrics.js'
export type { AuthDecision, Authorize, GatewayOptions, GatewaySettings } from './options.js'
export type { RateLimitOptions } from './rate-limit.js'
export { type Route, resolveApiPath } from './routes.js'
export { DEFAULT_GATEWAY_ADDRESS, type ServedGateway, serveGateway } from './serve.js'
