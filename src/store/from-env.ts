import { platformAddress } from '../engines/platform.js'
import { STORE_ENGINES } from './engine-names.js'
import { FileStore } from './file.js'
import { MemoryStore } from './memory.js'
import { NatsStore } from './nats.js'
import { PostgresStore } from './postgres.js'
import { RedisStore } from './redis.js'
import { ServiceStore } from './service.js'
import type { Store } from './store.js'

export { STORE_ENGINES, STORE_NAMES } from './engine-names.js'

/**
 * A store by name, as `MICRO_STORE` / `MICRO_STORE_ADDRESS` configure it:
 *
 * - `file` (the default): LMDB on disk; `address` is the directory (default `~/.micro/store`).
 * - `memory`: this process only; `address` is ignored.
 * - `redis`: `address` like `redis://127.0.0.1:6379`.
 * - `postgres`: `address` like `postgres://user@127.0.0.1:5432/db`.
 * - `nats`: JetStream KV; `address` like `nats://127.0.0.1:4222`.
 * - `service`: the store of a platform (`micro server`); `address` is its platform port
 *   `host:port` (default MICRO_PLATFORM, else `127.0.0.1:8081`).
 *
 * Engines connect on first use. Throws a TypeError naming the known engines for any other
 * name.
 */
export function createStore(name?: string, address?: string): Store {
  const at = address?.trim() || undefined
  switch (STORE_ENGINES.pick(name)) {
    case 'file':
      return new FileStore({ directory: at })
    case 'memory':
      return new MemoryStore()
    case 'redis':
      return new RedisStore({ address: at })
    case 'postgres':
      return new PostgresStore({ address: at })
    case 'nats':
      return new NatsStore({ address: at })
    case 'service':
      return new ServiceStore({ address: at })
  }
}

/**
 * The store `MICRO_STORE` and `MICRO_STORE_ADDRESS` name (the file store when unset, the
 * platform's when only MICRO_PLATFORM is set). An unknown name is a TypeError such as
 * `MICRO_STORE=mongo: unknown store engine; known: ...`.
 */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): Store {
  const name = STORE_ENGINES.fromEnv(env, 'MICRO_STORE')
  const address = env.MICRO_STORE_ADDRESS || undefined
  return createStore(name, name === 'service' ? platformAddress(address, env) : address)
}
