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
