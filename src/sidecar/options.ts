import type { ServiceOptions } from '../service/options.js'
import { parseAddress } from '../transport/address.js'
import { parseEndpointFlag } from './discovery.js'
import { metadataAllowList } from './headers.js'

/** What `createSidecar` takes. Unset options get the defaults below. */
export interface SidecarOptions {
  /** The service name the app is registered under (`py-orders`). */
  name: string
  /** The app's HTTP port: inbound calls, deliveries and health checks go there. */
  appPort: number
  /** The app's host. Default 127.0.0.1. */
  appHost?: string
  /** The sidecar's own HTTP API, `host:port`. Default 127.0.0.1:3500; port 0 picks one. */
  address?: string
  /** Polled until it answers 2xx; only then is the service registered. Default `/health`. */
  appHealthPath?: string
  /**
   * The app's endpoints (`Orders.Create`, or `Orders.Create=/orders` for a path of its own).
   * Default: what the app answers on `GET /micro/endpoints`.
   */
  endpoints?: readonly string[]
  /** Service version. Default `latest` (MICRO_SERVICE_VERSION is not read). */
  version?: string
  /**
   * Headers that cross as call metadata both ways (names, or `x-*` prefixes); Cookie and
   * Authorization never do. Default: traceparent, tracestate, baggage, x-request-id,
   * accept-language.
   */
  metadata?: readonly string[]
  /** Largest request or reply body through the sidecar, bytes. Default 4 MiB. */
  maxBody?: number
  /** Deadline of a call to the app when the caller gave none, ms. Default 30 s. */
  appTimeout?: number
  /** How often the app's health is checked once it is up, ms. Default 5 s. */
  healthInterval?: number
  /** Deliveries in flight per subscription, unless it says otherwise. Default 16. */
  deliveryConcurrency?: number
  /** How long one delivery may take before it counts as RETRY, ms. Default 30 s. */
  deliveryTimeout?: number
  /**
   * A token the app must send as `Micro-Api-Token` on every `/v1/*` call but the health
   * checks (MICRO_SIDECAR_API_TOKEN). Default: none (the port is on loopback).
   */
  apiToken?: string
  /** Sent to the app as `Micro-Api-Token` on every call, so it can tell its sidecar (MICRO_APP_API_TOKEN). */
  appToken?: string
  /** Passed to `createService` (registry, broker, store, resilience, env ...). */
  service?: Omit<ServiceOptions, 'name' | 'version' | 'config' | 'handleSignals'>
}

/** The options with every default filled in and checked. */
export interface SidecarSettings {
  name: string
  version: string
  appHost: string
  appPort: number
  address: string
  appHealthPath: string
  endpoints: ReturnType<typeof parseEndpointFlag> | undefined
  metadata: readonly string[]
  maxBody: number
  appTimeout: number
  healthInterval: number
  deliveryConcurrency: number
  deliveryTimeout: number
  apiToken: string | undefined
  appToken: string | undefined
}

/** Where the sidecar's HTTP API listens unless told otherwise (Dapr's HTTP port, on loopback). */
export const DEFAULT_SIDECAR_ADDRESS = '127.0.0.1:3500'
/** The largest request or reply body through the sidecar unless told otherwise: 4 MiB. */
export const DEFAULT_MAX_BODY = 4 * 1024 * 1024

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i

/** Check the options and fill in defaults; a TypeError names the first bad one. */
export function resolveSidecarSettings(options: SidecarOptions): SidecarSettings {
  if (typeof options.name !== 'string' || !NAME.test(options.name)) {
    throw new TypeError(`the service name must be letters, digits, '.', '_' or '-' (got ${options.name})`)
  }
  const appPort = options.appPort
  if (!Number.isInteger(appPort) || appPort < 1 || appPort > 65535) {
    throw new TypeError(`the app port must be 1-65535 (got ${appPort})`)
  }
  const address = options.address ?? DEFAULT_SIDECAR_ADDRESS
  parseAddress(address)
  const appHealthPath = options.appHealthPath ?? '/health'
  if (!/^\/[\x21-\x7e]*$/.test(appHealthPath)) {
    throw new TypeError(`the app health path must start with / and have no spaces (got ${appHealthPath})`)
  }
  return {
    name: options.name,
    version: options.version ?? 'latest',
    appHost: options.appHost ?? '127.0.0.1',
    appPort,
    address,
    appHealthPath,
    endpoints: options.endpoints === undefined ? undefined : parseEndpointFlag(options.endpoints),
    metadata: metadataAllowList(options.metadata),
    maxBody: positive(options.maxBody, DEFAULT_MAX_BODY, 'maxBody'),
    appTimeout: positive(options.appTimeout, 30_000, 'appTimeout'),
    healthInterval: positive(options.healthInterval, 5000, 'healthInterval'),
    deliveryConcurrency: positive(options.deliveryConcurrency, 16, 'deliveryConcurrency'),
    deliveryTimeout: positive(options.deliveryTimeout, 30_000, 'deliveryTimeout'),
    apiToken: options.apiToken || undefined,
    appToken: options.appToken || undefined,
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0)
    throw new TypeError(`${name} must be a positive number (got ${value})`)
  return value
}
