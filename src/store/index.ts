/**
 * Key-value storage: the Store interface; the file (LMDB, default), memory, Redis,
 * PostgreSQL and NATS KV stores; `createStore` to pick one by name.
 *
 * The conformance suite every implementation passes lives in `./conformance.js`; it is not
 * exported here because it pulls in `node:test`.
 * @module micro-ts/store
 */
export { STORE_ERROR_ID, StoreNotFoundError } from './errors.js'
export { DEFAULT_STORE_DIRECTORY, FileStore, type FileStoreOptions } from './file.js'
export { createStore, STORE_NAMES, storeFromEnv } from './from-env.js'
export { MemoryStore, type MemoryStoreOptions } from './memory.js'
export { NatsStore, type NatsStoreOptions } from './nats.js'
export { PostgresStore, type PostgresStoreOptions } from './postgres.js'
export { RedisStore, type RedisStoreOptions } from './redis.js'
export { MAX_KEY_BYTES, MAX_NAME_BYTES } from './scope.js'
export { ServiceStore, type ServiceStoreOptions } from './service.js'
export {
  DEFAULT_DATABASE,
  DEFAULT_TABLE,
  type QueryOptions,
  type ScopeOptions,
  type Store,
  type StoreRecord,
  type StoreValue,
  type TableRef,
  type WriteOptions,
} from './store.js'
