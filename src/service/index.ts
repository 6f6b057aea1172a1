/**
 * Services: create, handle, run, stop.
 * @module
 */
export type { Hook } from './lifecycle.js'
export type { ServiceOptions } from './options.js'
export { createService, Service } from './service.js'
