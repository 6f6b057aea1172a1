/**
 * The sidecar as a library: what `micro sidecar` runs, for a program that starts one itself
 * (a test harness, a launcher next to an app in another language). It registers the app
 * as a micro service, forwards calls and deliveries to the app's HTTP port, and serves the
 * app the building blocks over a local HTTP API (`/v1/invoke`, `/v1/publish`, `/v1/events`, `/v1/state`,
 * `/v1/config`, `/v1/healthz`), in the shapes Dapr users know.
 *
 * ```ts
 * import { createSidecar } from 'micro-ts/sidecar'
 * const sidecar = createSidecar({ name: 'py-orders', appPort: 5000, address: '127.0.0.1:0' })
 * const api = await sidecar.start() // the HTTP API is up; the app may start before or after
 * await sidecar.ready // the app answered its health check and is registered
 * // ... on shutdown
 * await sidecar.stop()
 * ```
 * @module micro-ts/sidecar
 */
export type { SidecarHealth } from './api.js'
export type { AppEndpoint, AppSubscription } from './discovery.js'
export { DEFAULT_METADATA } from './headers.js'
export {
  DEFAULT_MAX_BODY,
  DEFAULT_SIDECAR_ADDRESS,
  type SidecarOptions,
  type SidecarSettings,
} from './options.js'
export { createSidecar, Sidecar, type SidecarPhase } from './sidecar.js'
