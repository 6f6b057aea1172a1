import type { LeaderOptions, LockOptions, Sync } from './sync.js'

/**
 * A view of `sync` whose locks and elections default to `namespace` (a call may still
 * name another), so services of different tenants never contend for the same lock.
 */
export function namespacedSync(sync: Sync, namespace: string): Sync {
  return {
    get name() {
      return sync.name
    },
    lock: (id: string, options?: LockOptions) => sync.lock(id, { namespace, ...options }),
    leader: (id: string, options?: LeaderOptions) => sync.leader(id, { namespace, ...options }),
    close: () => sync.close(),
  }
}
