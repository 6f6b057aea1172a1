/**
 * Dynamic configuration: sources (environment, files, flags, memory, a key/value store)
 * merged in order, `${VAR}` expansion, typed getters, watch for hot reload, and secrets
 * encrypted with AES-256-GCM.
 *
 * ```ts
 * const cfg = await loadConfig({
 *   sources: [envSource({ prefix: 'SHOP' }), fileSource('config.yaml'), flagsSource()],
 * })
 * cfg.get('db.url').string('postgres://localhost/shop')
 * for await (const v of cfg.watch('features.checkout')) console.log(v.bool(false))
 * ```
 *
 * The conformance suites live in `./conformance.js`; they are not exported here because
 * they pull in `node:test`.
 * @module micro-ts/config
 */
export {
  generateSecretKey,
  isSealed,
  openSecret,
  parseSecretKey,
  SEALED_PREFIX,
  SECRET_KEY_ENV,
  sealSecret,
  secretKeyFromEnv,
} from './cipher.js'
export { Config, type ConfigWatchOptions, type LoadConfigOptions, loadConfig } from './config.js'
export { type EnvSourceOptions, envSource } from './env-source.js'
export { type FileFormat, formatOf, parseConfigText } from './file-format.js'
export { type FileSourceOptions, fileSource } from './file-source.js'
export { flagsSource } from './flags-source.js'
export type { ConfigKV, KVOptions } from './kv.js'
export { MemoryConfigKV } from './memory-kv.js'
export { type MemorySource, memorySource } from './memory-source.js'
export {
  CONFIG_NAMES,
  configSourceFromEnv,
  type PlatformConfigSourceOptions,
  platformConfigSource,
} from './platform-source.js'
export { Secret, secret } from './secret.js'
export {
  CONFIG_FILE_ENV,
  envPrefix,
  loadServiceConfig,
  type ServiceConfigOptions,
  serviceSources,
} from './service-config.js'
export type { Source, Unwatch } from './source.js'
export { ConfigDocument, type ConfigDocumentOptions, DEFAULT_CONFIG_KEY } from './store-document.js'
export { storeKV } from './store-kv.js'
export { type StoreSourceOptions, storeSource } from './store-source.js'
export type { ConfigObject } from './tree.js'
export { Value } from './value.js'
