import { MicroError } from '../errors/errors.js'

/** The id sync errors carry. */
export const SYNC_ERROR_ID = 'micro.sync'

/** How long a lock lives without renewal unless told otherwise, in ms. */
export const DEFAULT_LOCK_TTL = 30_000

/** Options of `sync.lock(id, options)`. */
export interface LockOptions {
  /** How long the lock lives if its holder stops renewing it (dies), in ms. Default 30 s. */
  ttl?: number
  /** How long to wait for the lock, in ms; 0 tries once; absent waits as long as it takes. */
  wait?: number
  /** Defaults to `micro`. Locks of different namespaces never meet. */
  namespace?: string
  /** Gives up waiting (rejects with a 499). */
  signal?: AbortSignal
}

/**
 * A held lock. It is renewed in the background (every ttl/3) until `unlock()`; if renewal
 * fails for a whole TTL or finds the lock taken, `lost` aborts: stop acting as holder.
 * `await using lock = await sync.lock(id)` unlocks at the end of the block.
 */
export interface Lock extends AsyncDisposable {
  readonly id: string
  readonly namespace: string
  /**
   * Fencing token: strictly greater than the token of every earlier holder of this lock
   * id. Pass it to what the lock protects, so writes from a holder that lost the lock
   * (paused, partitioned) can be refused.
   */
  readonly token: number
  /** Aborts when the lock is lost (its reason says why). Not aborted by `unlock()`. */
  readonly lost: AbortSignal
  /** True until unlocked or lost. */
  readonly held: boolean
  /**
   * Release the lock and wake a waiter. Never rejects: if the engine cannot be told, the
   * lock frees itself when its TTL runs out. A second call does nothing.
   */
  unlock(): Promise<void>
}

/** What happened to a leadership: won, or lost (expired or taken over). */
export type LeaderStatus = 'gained' | 'lost'

/** Options of `sync.leader(id, options)`. */
export interface LeaderOptions {
  /** TTL of the lock behind the leadership, in ms. Default 30 s. */
  ttl?: number
  /** Defaults to `micro`. */
  namespace?: string
  /** Pause before campaigning again after an error or a loss, in ms. Default 100 ms. */
  retryDelay?: number
}

/**
 * A candidate in a leader election, campaigning from the moment it is created until it
 * resigns: it becomes leader when it gets the election's lock, and campaigns again after
 * losing it.
 */
export interface Leader extends AsyncDisposable {
  readonly id: string
  readonly namespace: string
  readonly isLeader: boolean
  /** The fencing token of the current term, while leader. */
  readonly token: number | undefined
  /**
   * Changes of leadership from now on ('gained' first when already leader), ending after
   * `resign()`. Each iteration sees every change.
   */
  readonly status: AsyncIterable<LeaderStatus>
  /** Stop campaigning; a leader releases the lock and its status reports 'lost'. */
  resign(): Promise<void>
}

/** Distributed locks and leader election. */
export interface Sync {
  /** The implementation's name: `file`, `memory`, `redis`, `postgres`, `nats`. */
  readonly name: string
  /** Wait for the lock `id` and hold it; rejects with a {@link LockTimeoutError} after `wait`. */
  lock(id: string, options?: LockOptions): Promise<Lock>
  /** Join the election `id` (it campaigns at once; see `status`). */
  leader(id: string, options?: LeaderOptions): Leader
  /** Resign every leader, unlock every lock, release connections and timers. */
  close(): Promise<void>
}

/**
 * The lock was not free within `wait`: a 409 (the lock is in another holder's hands), so
 * it is not mistaken for a call's own deadline passing (408).
 */
export class LockTimeoutError extends MicroError {
  readonly lockId: string

  constructor(id: string, namespace: string, wait: number) {
    super(
      SYNC_ERROR_ID,
      `lock ${JSON.stringify(id)} in ${namespace} still held after waiting ${wait} ms`,
      409,
    )
    this.name = 'LockTimeoutError'
    this.lockId = id
  }
}
