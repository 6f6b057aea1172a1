/**
 * The building blocks as services on the platform port: `Registry`, `Broker`, `Events`,
 * `Store`, `Config` and `Proxy` handlers in front of the server's engines, and
 * `startPlatformService` to serve them as the `platform` service.
 * @module
 */
export {
  Broker,
  type SettleMessage,
  SUBSCRIBE_WINDOW,
  type SubscribeOutput,
  type WireDelivery,
} from './broker.js'
export { Config, type ConfigServiceOptions } from './config.js'
export { Events } from './events.js'
export type { ConsumeInput, ConsumeOutput, WireEvent, WireEventRecord } from './events-wire.js'
export {
  type PlatformEngines,
  type PlatformService,
  type PlatformServiceOptions,
  startPlatformService,
} from './platform.js'
export { ProxyHandler } from './proxy.js'
export { Registry, type WatchMessage } from './registry.js'
export { Store, type WireRecord } from './store.js'
export { PLATFORM_ERROR_ID } from './wire.js'
