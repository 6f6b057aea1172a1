/**
 * Service definitions (Mikros' opinionated layer): a `service.toml` plus one module that
 * exports `defineService({...})` is a complete service, run with `micro run <folder>`.
 * Kinds and features are plugins.
 * @module micro-ts/definition
 */
export {
  type ClientSpec,
  type ClientSpecOptions,
  type ClientSpecs,
  clientSpec,
  type InferClients,
} from './clients.js'
export type { Catalog, ClientConfig, FeatureConfig, KindEntry, ServiceConfig } from './config.js'
export {
  defineService,
  type FetchHandler,
  type HttpHandler,
  isServiceDefinition,
  type RpcHandlers,
  type RpcRegistration,
  rpcHandler,
  type ServiceDefinition,
  type ServiceSpec,
  type Worker,
  type WorkerHandler,
} from './define.js'
export type { Deps, FeatureApis, Features, RunDeps, ServiceInfo } from './deps.js'
export { envPrefix } from './env.js'
export type { EnvEnumOptions, EnvSpec, EnvType, EnvVar, EnvVarOptions, InferEnv } from './env-spec.js'
export { Extensions, HealthState, type HttpMiddleware, type NodeHandler } from './extensions.js'
export type { Feature, FeatureContext, FeatureInstance } from './feature.js'
export type { Kind, KindContext, RunningKind } from './kind.js'
export { registerFeature, registerKind } from './plugins.js'
export { type Prepared, type PrepareInput, prepare } from './prepare.js'
export { DefinitionError, type Problem, Problems } from './problems.js'
export { type RunOptions, runService } from './run.js'
export { type Exit, type RuntimeOptions, ServiceRuntime } from './runtime.js'
export { type Table, TableReader } from './table.js'
export { parseToml, readToml } from './toml.js'
