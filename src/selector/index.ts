/**
 * Client-side load balancing: which node takes the next call.
 * @module micro-ts/selector
 */
export { BaseSelector } from './base.js'
export { createSelector } from './from-name.js'
export { LeastInFlightSelector } from './least-in-flight.js'
export { isNodeFailure, NodeHealth, type NodeHealthOptions } from './node-health.js'
export { RandomSelector } from './random.js'
export { RoundRobinSelector } from './round-robin.js'
export type { SelectOptions, Selector } from './selector.js'
