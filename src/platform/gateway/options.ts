import type { IncomingMessage } from 'node:http'
import type { Logger } from '../../logger/logger.js'
import type { Registry } from '../../registry/registry.js'
import type { Selector } from '../../selector/selector.js'
import type { Transport } from '../../transport/transport.js'
import { envDuration } from '../../util/duration.js'
import type { HttpLimits } from '../http/listen.js'
import { DEFAULT_METADATA_HEADERS, metadataAllowList } from './metadata.js'
import type { GatewayMetrics } from './metrics.js'
import type { RateLimitOptions } from './rate-limit.js'
import type { Route } from './routes.js'

/** What the auth hook decides for one request. */
export type AuthDecision =
  | {
      allow: true
      metadata?: Record<string, string>
      /** The namespace the request is served in (the token's, say); default: the one it named, else the gateway's. */
      namespace?: string
    }
  | { allow: false; code: 401 | 403; detail: string }

/**
 * The auth hook (the auth layer plugs in here): called once a request's route is known
 * and before the service is looked up, so an unauthorised caller learns nothing about
 * which services exist. `namespace` is the one the request named (`Micro-Namespace`,
 * already checked), undefined when it named none; the hook checks the caller against it
 * and may pick the namespace of a request that named none (the token's issuer). Metadata
 * it returns (the account, say) is added to the call's.
 */
export type Authorize = (
  req: IncomingMessage,
  route: Route,
  namespace: string | undefined,
) => AuthDecision | Promise<AuthDecision>

/** Options of `createGateway`; each unset one comes from its `MICRO_GATEWAY_*` variable, then the default. */
export interface GatewayOptions extends HttpLimits {
  /** Where services are found. Default: MICRO_REGISTRY (mDNS on loopback). */
  registry?: Registry
  /** How services are called. Default: MICRO_TRANSPORT (the micro protocol over TCP). */
  transport?: Transport
  /** Default: least-in-flight. */
  selector?: Selector
  /** Registry namespace of a request that names none (`Micro-Namespace`). MICRO_NAMESPACE, default `micro`. */
  namespace?: string
  /** Origins allowed to call from browsers (`https://app.example.com`, or `*`). MICRO_GATEWAY_CORS_ORIGINS (comma-separated), default none. */
  corsOrigins?: readonly string[]
  /** Allow credentials (cookies) on CORS requests. MICRO_GATEWAY_CORS_CREDENTIALS, default false. */
  corsCredentials?: boolean
  /** Largest request body, bytes. MICRO_GATEWAY_MAX_BODY, default 1 MiB. */
  maxBodySize?: number
  /** Deadline of a call made for a request, ms (a `Micro-Timeout` header may ask for less). MICRO_GATEWAY_REQUEST_TIMEOUT, default 30 s. */
  requestTimeout?: number
  /** Per-client rate limit, or false for none. MICRO_GATEWAY_RATE_LIMIT (`rate` or `rate/burst`, `0` for none), default 100/s, bursts of 200. */
  rateLimit?: RateLimitOptions | false
  /** Request headers passed to services as metadata. MICRO_GATEWAY_HEADERS (comma-separated), default: trace context, x-request-id, accept-language. */
  metadataHeaders?: readonly string[]
  /** WebSocket and SSE streams open at once. MICRO_GATEWAY_MAX_STREAMS, default 1000. */
  maxStreams?: number
  /** Largest WebSocket message, bytes. MICRO_GATEWAY_WS_MAX_PAYLOAD, default 64 KiB. */
  wsMaxPayload?: number
  /** WebSocket ping (and SSE keep-alive comment) interval, ms; a socket silent for two is closed. Default 15 s. */
  pingInterval?: number
  /** The auth hook; none: every request is allowed. */
  authorize?: Authorize
  /** Where request metrics go. Default: the built-in counters served at /metrics. */
  metrics?: GatewayMetrics
  logger?: Logger
}

/** The options with every default applied. */
export interface GatewaySettings {
  namespace: string
  corsOrigins: string[]
  corsCredentials: boolean
  maxBodySize: number
  requestTimeout: number
  rateLimit: RateLimitOptions | false
  metadataHeaders: string[]
  maxStreams: number
  wsMaxPayload: number
  pingInterval: number
  limits: Required<Pick<HttpLimits, 'headersTimeout' | 'readTimeout'>>
}

/** Apply defaults and `MICRO_GATEWAY_*` variables; throws a TypeError naming a bad value. */
export function gatewaySettings(
  options: GatewayOptions,
  env: NodeJS.ProcessEnv = process.env,
): GatewaySettings {
  return {
    namespace: options.namespace ?? (env.MICRO_NAMESPACE || 'micro'),
    corsOrigins: [...(options.corsOrigins ?? list(env.MICRO_GATEWAY_CORS_ORIGINS) ?? [])],
    corsCredentials: options.corsCredentials ?? flag(env, 'MICRO_GATEWAY_CORS_CREDENTIALS', false),
    maxBodySize: options.maxBodySize ?? integer(env, 'MICRO_GATEWAY_MAX_BODY', 1024 * 1024),
    requestTimeout: options.requestTimeout ?? envDuration(env, 'MICRO_GATEWAY_REQUEST_TIMEOUT', 30_000),
    rateLimit: options.rateLimit ?? rateLimitOf(env.MICRO_GATEWAY_RATE_LIMIT),
    metadataHeaders: metadataAllowList(
      options.metadataHeaders ?? list(env.MICRO_GATEWAY_HEADERS) ?? DEFAULT_METADATA_HEADERS,
    ),
    maxStreams: options.maxStreams ?? integer(env, 'MICRO_GATEWAY_MAX_STREAMS', 1000),
    wsMaxPayload: options.wsMaxPayload ?? integer(env, 'MICRO_GATEWAY_WS_MAX_PAYLOAD', 64 * 1024),
    pingInterval: options.pingInterval ?? 15_000,
    limits: {
      headersTimeout: options.headersTimeout ?? envDuration(env, 'MICRO_GATEWAY_HEADERS_TIMEOUT', 10_000),
      readTimeout: options.readTimeout ?? envDuration(env, 'MICRO_GATEWAY_READ_TIMEOUT', 30_000),
    },
  }
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim().toLowerCase()
  if (value === undefined || value === '') return fallback
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new TypeError(`${name} must be true or false, not "${env[name]}"`)
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name]
  if (value === undefined || value.trim() === '') return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(`${name} must be a positive whole number, not "${value}"`)
  return n
}

/** `100` (100/s, bursts of 200), `100/500`, or `0` / `off` for no limit. */
export function rateLimitOf(value: string | undefined): RateLimitOptions | false {
  if (value === undefined || value.trim() === '') return { rate: 100, burst: 200 }
  const text = value.trim().toLowerCase()
  if (text === '0' || text === 'off' || text === 'false') return false
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(text)
  if (!match || Number(match[1]) <= 0) {
    throw new TypeError(
      `MICRO_GATEWAY_RATE_LIMIT must be rate or rate/burst (e.g. 100/200) or 0, not "${value}"`,
    )
  }
  const rate = Number(match[1])
  return { rate, burst: match[2] === undefined ? rate * 2 : Number(match[2]) }
}
