/**
 * micro-ts: Micro for TypeScript.
 *
 * ```ts
 * import { createService } from 'micro-ts'
 *
 * class Greeter {
 *   async Hello(req: { name: string }) { return { message: `Hello ${req.name}` } }
 * }
 * const service = createService({ name: 'greeter', version: '1.0.0' })
 * service.handle(new Greeter())
 * await service.run()
 * ```
 * @module
 */
export { Client, type ClientOptions } from './client/client.js'
export { ClientStream } from './client/client-stream.js'
export type { CallOptions } from './client/options.js'
export type { ServiceClient, ServiceClientOptions } from './client/proxy.js'
export { type RetryOptions, retryNever, retryOnUnavailable } from './client/retry.js'
export type { CallFn, ClientRequest, ClientWrapper } from './client/wrappers.js'
export { type Codec, Codecs, jsonCodec, msgpackCodec, rawCodec } from './codec/index.js'
export { MicroError } from './errors/errors.js'
export * as errors from './errors/index.js'
export { createLogger, type Logger } from './logger/logger.js'
export type { EndpointRecord, NodeRecord, Registry, ServiceRecord } from './registry/registry.js'
export type { Context, Metadata } from './server/context.js'
export { type EndpointOptions, endpoint } from './server/endpoint.js'
export type { HandleOptions } from './server/handlers.js'
export type { StandardSchema } from './server/standard-schema.js'
export type { EndpointInfo, HandlerWrapper } from './server/wrappers.js'
export type { Hook } from './service/lifecycle.js'
export type { ServiceOptions } from './service/options.js'
export { createService, Service } from './service/service.js'
