import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import { LazyValue, LOADED } from '../util/lazy-value.js'
import { SYNC_ENGINES } from './engine-names.js'
import type { Leader, LeaderOptions, LeaderStatus, Lock, LockOptions, Sync } from './sync.js'

/**
 * The sync `MICRO_SYNC` / `MICRO_SYNC_ADDRESS` name, as `syncFromEnv` makes it, but with
 * its engine's module imported on the first call: what a service carries, so one that
 * takes no lock loads none. An unknown engine is refused now; the engine's own complaints
 * (a bad address) come with the first call.
 */
export function lazySyncFromEnv(env: NodeJS.ProcessEnv = process.env): Sync {
  const engine = SYNC_ENGINES.fromEnv(env, 'MICRO_SYNC')
  return new LazySync(engine, async () => (await import('./from-env.js')).syncFromEnv(env))
}

/** A {@link Sync} whose implementation is loaded on the first call. */
export class LazySync implements Sync {
  readonly name: string
  readonly #sync: LazyValue<Sync>

  constructor(name: string, load: () => Promise<Sync>) {
    this.name = name
    this.#sync = new LazyValue(load)
  }

  /** The engine, once loaded. */
  get [LOADED](): Sync | undefined {
    return this.#sync.now
  }

  async lock(id: string, options?: LockOptions): Promise<Lock> {
    return (this.#sync.now ?? (await this.#sync.get())).lock(id, options)
  }

  leader(id: string, options?: LeaderOptions): Leader {
    const sync = this.#sync.now
    if (sync) return sync.leader(id, options)
    return pendingLeader(
      this.#sync.get().then((s) => s.leader(id, options)),
      id,
      options?.namespace ?? DEFAULT_NAMESPACE,
    )
  }

  close(): Promise<void> {
    return this.#sync.close()
  }
}

/**
 * A candidate asked for while the engine loads: not leader until the real one (made as
 * soon as the engine is loaded) says so. A refused candidacy (a bad id) ends `status` with
 * the error and rejects `resign`.
 */
function pendingLeader(leader: Promise<Leader>, id: string, namespace: string): Leader {
  let made: Leader | undefined
  leader.then((l) => (made = l)).catch(() => {})
  const resign = async () => (await leader).resign()
  return {
    id,
    namespace,
    get isLeader() {
      return made?.isLeader ?? false
    },
    get token() {
      return made?.token
    },
    get status(): AsyncIterable<LeaderStatus> {
      return {
        [Symbol.asyncIterator]: () => {
          let inner: AsyncIterator<LeaderStatus> | undefined
          const start = async () => {
            inner ??= (await leader).status[Symbol.asyncIterator]()
            return inner
          }
          return {
            next: () => (inner ? inner.next() : start().then((it) => it.next())),
            return: async (value?: unknown) => {
              const it = await start()
              return it.return ? it.return(value) : { done: true, value: undefined }
            },
          }
        },
      }
    },
    resign,
    [Symbol.asyncDispose]: resign,
  }
}
