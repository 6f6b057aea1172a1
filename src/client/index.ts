/**
 * The client: calls, streams, typed proxies, retries, deadlines, wrappers.
 * @module micro-ts/client
 */
export { Client, type ClientOptions } from './client.js'
export { ClientStream } from './client-stream.js'
export type { ServiceLookup } from './lookup.js'
export type { CallOptions } from './options.js'
export type { EndpointKey, ProxyMethod, ServiceClient, ServiceClientOptions } from './proxy.js'
export { type RetryCall, type RetryOptions, retryNever, retryOnUnavailable } from './retry.js'
export type { CallFn, ClientRequest, ClientWrapper } from './wrappers.js'
