import { FileStore } from './file.js'
import { MemoryStore } from './memory.js'
import { NatsStore } from './nats.js'
import { PostgresStore } from './postgres.js'
import { RedisStore } from './redis.js'
import type { Store } from './store.js'

/** Store names `createStore` understands. */
export const STORE_NAMES = ['file', 'memory', 'redis', 'postgres', 'nats'] as const

/**
 * A store by name, as `MICRO_STORE` / `MICRO_STORE_ADDRESS` configure it:
 *
 * - `file` (the default): LMDB on disk; `address` is the directory (default `~/.micro/store`).
 * - `memory`: this process only; `address` is ignored.
 * - `redis`: `address` like `redis://127.0.0.1:6379`.
 * - `postgres`: `address` like `postgres://user@127.0.0.1:5432/db`.
 * - `nats`: JetStream KV; `address` like `nats://127.0.0.1:4222`.
 *
 * Engines connect on first use. Throws a TypeError naming the choices for any other name.
 */
export function createStore(name = 'file', address?: string): Store {
  const chosen = name.trim().toLowerCase() || 'file'
  const at = address?.trim() || undefined
  switch (chosen) {
    case 'file':
      return new FileStore({ directory: at })
    case 'memory':
      return new MemoryStore()
    case 'redis':
      return new RedisStore({ address: at })
    case 'postgres':
    case 'postgresql':
      return new PostgresStore({ address: at })
    case 'nats':
      return new NatsStore({ address: at })
    default:
      throw new TypeError(`unknown store "${name}": choose one of ${STORE_NAMES.join(', ')}`)
  }
}

/** The store `MICRO_STORE` and `MICRO_STORE_ADDRESS` name (the file store when unset). */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): Store {
  return createStore(env.MICRO_STORE || undefined, env.MICRO_STORE_ADDRESS || undefined)
}
