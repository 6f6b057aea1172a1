/**
 * Distributed locks and leader election: the Sync interface; file (the default, every
 * process on this machine), memory, Redis, PostgreSQL and NATS KV implementations; `createSync` to pick one by name.
 *
 * The conformance suite every implementation passes lives in `./conformance.js`; it is not
 * exported here because it pulls in `node:test`.
 * @module micro-ts/sync
 */
export { abandonSync } from './base.js'
export { DEFAULT_SYNC_DIRECTORY, FileSync, type FileSyncOptions } from './file.js'
export { createSync, SYNC_NAMES, syncFromEnv } from './from-env.js'
export { MemoryLockTable, MemorySync, type MemorySyncOptions } from './memory.js'
export { NatsSync, type NatsSyncOptions } from './nats.js'
export { PostgresSync, type PostgresSyncOptions } from './postgres.js'
export { RedisSync, type RedisSyncOptions } from './redis.js'
export {
  DEFAULT_LOCK_TTL,
  type Leader,
  type LeaderOptions,
  type LeaderStatus,
  type Lock,
  type LockOptions,
  LockTimeoutError,
  SYNC_ERROR_ID,
  type Sync,
} from './sync.js'
