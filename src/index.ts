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
 * @module micro-ts
 */
export type { Broker, Delivery, Message, Subscription } from './broker/broker.js'
export type { MessageContext, MessageHandler, SubscriberOptions } from './broker/subscriber.js'
export { Client, type ClientOptions, type ClientPublishOptions } from './client/client.js'
export { ClientStream } from './client/client-stream.js'
export type { CallOptions } from './client/options.js'
export type { ServiceClient, ServiceClientOptions } from './client/proxy.js'
export { type RetryOptions, retryNever, retryOnUnavailable } from './client/retry.js'
export type { CallFn, ClientRequest, ClientWrapper } from './client/wrappers.js'
export { type Codec, Codecs, jsonCodec, msgpackCodec, rawCodec } from './codec/index.js'
export {
  Config,
  envSource,
  fileSource,
  flagsSource,
  loadConfig,
  memorySource,
  Secret,
  secret,
  Value,
} from './config/index.js'
// Each from its own module (not definition/index.js): the main entry should not load the
// service.toml runtime for users of createService; runService imports it when called.
export { type ClientSpec, clientSpec } from './definition/clients.js'
export {
  defineService,
  type FetchHandler,
  type HttpHandler,
  rpcHandler,
  type ServiceDefinition,
  type ServiceSpec,
  type Worker,
} from './definition/define.js'
export type { Deps, FeatureApis, Features, RunDeps } from './definition/deps.js'
export type { EnvSpec, InferEnv } from './definition/env-spec.js'
export type { Feature } from './definition/feature.js'
export type { Kind } from './definition/kind.js'
export { registerFeature, registerKind } from './definition/plugins.js'
export { DefinitionError } from './definition/problems.js'
export { runService } from './definition/run-lazily.js'
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
export type { ServiceFeatures, ServiceOptions } from './service/options.js'
export { createService, Service, type ServiceSubscribeOptions } from './service/service.js'
export { StoreNotFoundError } from './store/errors.js'
export type { QueryOptions, Store, StoreRecord, WriteOptions } from './store/store.js'
export { type Leader, type Lock, type LockOptions, LockTimeoutError, type Sync } from './sync/sync.js'
