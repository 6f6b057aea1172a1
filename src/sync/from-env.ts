import { SYNC_ENGINES } from './engine-names.js'
import { FileSync } from './file.js'
import { MemorySync } from './memory.js'
import { NatsSync } from './nats.js'
import { PostgresSync } from './postgres.js'
import { RedisSync } from './redis.js'
import type { Sync } from './sync.js'

export { SYNC_ENGINES, SYNC_NAMES } from './engine-names.js'

/**
 * A Sync by name, as `MICRO_SYNC` / `MICRO_SYNC_ADDRESS` configure it:
 *
 * - `file` (the default): locks shared by every process on this machine, in an LMDB file;
 *   `address` is the directory (default `~/.micro/sync`).
 * - `memory`: locks within this process (every MemorySync of the process shares one
 *   table); `address` is ignored.
 * - `redis`: `address` like `redis://127.0.0.1:6379`.
 * - `postgres`: advisory locks; `address` like `postgres://user@127.0.0.1:5432/db`.
 * - `nats`: JetStream KV; `address` like `nats://127.0.0.1:4222`.
 *
 * Engines connect on first use. Throws a TypeError naming the known engines for any other
 * name.
 */
export function createSync(name?: string, address?: string): Sync {
  const at = address?.trim() || undefined
  switch (SYNC_ENGINES.pick(name)) {
    case 'file':
      return new FileSync({ directory: at })
    case 'memory':
      return new MemorySync()
    case 'redis':
      return new RedisSync({ address: at })
    case 'postgres':
      return new PostgresSync({ address: at })
    case 'nats':
      return new NatsSync({ address: at })
  }
}

/**
 * The Sync `MICRO_SYNC` and `MICRO_SYNC_ADDRESS` name (the file sync when unset). An unknown
 * name is a TypeError such as `MICRO_SYNC=etcd: unknown sync engine; known: file, memory, ...`.
 */
export function syncFromEnv(env: NodeJS.ProcessEnv = process.env): Sync {
  return createSync(SYNC_ENGINES.fromEnv(env, 'MICRO_SYNC'), env.MICRO_SYNC_ADDRESS || undefined)
}
