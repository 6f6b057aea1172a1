/**
 * Service discovery: the Registry interface, the mDNS (default), memory and NATS registries, the
 * client-side cache, and `createRegistry` to pick one by name.
 *
 * The conformance suite every implementation passes lives in `./conformance.js`; it is not
 * exported here because it pulls in `node:test`.
 * @module micro-ts/registry
 */
export { RegistryCache, type RegistryCacheOptions } from './cache.js'
export { createRegistry, parseMdnsAddress, REGISTRY_NAMES, registryFromEnv } from './from-env.js'
export { MdnsRegistry, type MdnsRegistryOptions } from './mdns.js'
export type { DropReason, MdnsLimits } from './mdns-guard.js'
export { MemoryRegistry, type MemoryRegistryOptions } from './memory.js'
export { NatsRegistry, type NatsRegistryOptions } from './nats.js'
export {
  ANY_NAMESPACE,
  DEFAULT_NAMESPACE,
  type EndpointRecord,
  type JsonSchema,
  type NamespaceOption,
  type NodeRecord,
  type RegisterOptions,
  type Registry,
  type ServiceRecord,
  type WatchAction,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
} from './registry.js'
export { ServiceRegistry, type ServiceRegistryOptions } from './service.js'
