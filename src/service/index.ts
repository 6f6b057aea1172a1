/**
 * Services: create, handle, run, stop.
 * @module
 */
export type { Hook } from './lifecycle.js'
export type { ServiceFeatures, ServiceOptions } from './options.js'
export type { HttpAdvert } from './record.js'
export { createService, Service, type ServiceState, type ServiceSubscribeOptions } from './service.js'
