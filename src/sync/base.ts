import { MicroError } from '../errors/errors.js'
import { DEFAULT_NAMESPACE } from '../registry/registry.js'
import { LOADED } from '../util/lazy-value.js'
import { Campaign } from './leader.js'
import { HeldLock, type Lease } from './lock-handle.js'
import {
  DEFAULT_LOCK_TTL,
  type Leader,
  type LeaderOptions,
  type Lock,
  type LockOptions,
  LockTimeoutError,
  SYNC_ERROR_ID,
  type Sync,
} from './sync.js'

const ABANDON = Symbol('micro.sync.abandon')

/**
 * What every Sync shares: option checks, lock handles with renewal, leader campaigns on
 * top of `lock`, waiting by polling with local wake-ups, error normalisation and close().
 * An implementation either answers `tryAcquire` (one attempt) or replaces `acquire`.
 */
export abstract class BaseSync implements Sync {
  abstract readonly name: string
  /** The longest pause between attempts while waiting for a lock, in ms. */
  protected pollInterval = 50
  readonly #held = new Set<HeldLock>()
  readonly #campaigns = new Set<Campaign>()
  readonly #wakers = new Map<string, Set<() => void>>()
  /** Aborts every wait when the Sync closes. */
  readonly #closing = new AbortController()
  #closed: Promise<void> | undefined

  protected abstract closeEngine(): Promise<void>

  /** One attempt: the lease, or how many ms until another attempt makes sense. */
  protected tryAcquire(_namespace: string, _id: string, _ttl: number): Promise<Lease | number> {
    return Promise.reject(new Error(`${this.name} sync implements neither tryAcquire nor acquire`))
  }

  /** Waits for the lock by polling `tryAcquire`; throws LockTimeoutError once `wait` has passed. */
  protected async acquire(
    namespace: string,
    id: string,
    ttl: number,
    wait: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Lease> {
    const deadline = wait === undefined ? Number.POSITIVE_INFINITY : Date.now() + wait
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw canceled(id)
      const sentAt = Date.now()
      const got = await this.tryAcquire(namespace, id, ttl)
      if (typeof got !== 'number') {
        got.since ??= sentAt
        return got
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new LockTimeoutError(id, namespace, wait ?? 0)
      const pause = this.pollDelay(attempt)
      await this.#pause(namespace, id, Math.min(Math.max(got, 1), pause, left), signal)
    }
  }

  /**
   * The pause after failed attempt number `attempt` (from 0) of one wait, before it is cut
   * to the holder's remaining TTL and to what is left of `wait`: `pollInterval` with
   * jitter, so waiters in several processes do not poll in step.
   */
  protected pollDelay(_attempt: number): number {
    return this.pollInterval * (0.75 + Math.random() * 0.5)
  }

  /** Wakes this instance's waiters for a lock (it was just released). */
  protected wake(namespace: string, id: string): void {
    const wakers = this.#wakers.get(`${namespace}\0${id}`)
    if (wakers) for (const wake of [...wakers]) wake()
  }

  /** Whether close() has been called. */
  protected get closed(): boolean {
    return this.#closed !== undefined
  }

  async lock(id: string, options: LockOptions = {}): Promise<Lock> {
    if (this.#closed) throw closedError(this.name)
    checkId(id)
    const namespace = checkNamespace(options.namespace)
    const ttl = checkTtl(options.ttl)
    const wait = options.wait
    if (wait !== undefined && (typeof wait !== 'number' || !(wait >= 0) || !Number.isFinite(wait)))
      throw invalid(`wait must be a number of ms >= 0, not ${String(wait)}`)
    const signal = options.signal
    if (signal?.aborted) throw canceled(id)
    const requestedAt = Date.now()
    const waitSignal = signal ? AbortSignal.any([signal, this.#closing.signal]) : this.#closing.signal
    let lease: Lease
    try {
      lease = await this.acquire(namespace, id, ttl, wait, waitSignal)
    } catch (error) {
      if (this.#closed) throw closedError(this.name)
      if (signal?.aborted) throw canceled(id)
      throw this.#engineError(error)
    }
    if (signal?.aborted || this.#closed) {
      await lease.release().catch(() => {})
      throw this.#closed ? closedError(this.name) : canceled(id)
    }
    const released: Lease = {
      token: lease.token,
      since: lease.since ?? requestedAt,
      renew: () => lease.renew(),
      release: async () => {
        await lease.release()
        this.wake(namespace, id)
      },
      abandon: () => lease.abandon?.(),
    }
    const handle = new HeldLock(id, namespace, ttl, released, (h) => this.#held.delete(h))
    this.#held.add(handle)
    return handle
  }

  leader(id: string, options: LeaderOptions = {}): Leader {
    if (this.#closed) throw closedError(this.name)
    checkId(id)
    const namespace = checkNamespace(options.namespace)
    const ttl = checkTtl(options.ttl)
    const campaign = new Campaign(
      (lockId, lockOptions) => this.lock(lockId, lockOptions),
      id,
      namespace,
      ttl,
      options.retryDelay ?? 100,
      (c) => this.#campaigns.delete(c),
    )
    this.#campaigns.add(campaign)
    return campaign
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#closing.abort()
      await Promise.all([...this.#campaigns].map((c) => c.resign()))
      await Promise.all([...this.#held].map((h) => h.unlock()))
      await this.closeEngine().catch(() => {})
    })()
    return this.#closed
  }

  /** Test hook: stop renewing and campaigning without releasing anything (a holder that died). */
  [ABANDON](): void {
    for (const campaign of this.#campaigns) campaign.abandon()
    for (const held of this.#held) held.abandon()
  }

  #pause(namespace: string, id: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const key = `${namespace}\0${id}`
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(canceled(id))
        return
      }
      let wakers = this.#wakers.get(key)
      if (!wakers) {
        wakers = new Set()
        this.#wakers.set(key, wakers)
      }
      const set = wakers
      const cleanup = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', aborted)
        set.delete(done)
        if (set.size === 0 && this.#wakers.get(key) === set) this.#wakers.delete(key)
      }
      const done = () => {
        cleanup()
        resolve()
      }
      const aborted = () => {
        cleanup()
        reject(canceled(id))
      }
      const timer = setTimeout(done, ms)
      set.add(done)
      signal?.addEventListener('abort', aborted, { once: true })
    })
  }

  #engineError(error: unknown): MicroError {
    if (error instanceof MicroError) return error
    const message = error instanceof Error ? error.message || error.name : String(error)
    return new MicroError(SYNC_ERROR_ID, `${this.name} sync: ${message}`, 503, { cause: error })
  }
}

/**
 * Make a Sync behave as if its process died: renewals and campaigns stop and nothing is
 * released, so its locks free only when their TTL runs out. For tests. A lazily loaded sync
 * (a service's) is abandoned through its engine.
 */
export function abandonSync(sync: Sync): void {
  const engine = (sync as { [LOADED]?: Sync })[LOADED] ?? sync
  ;(engine as BaseSync)[ABANDON]()
}

function checkId(id: unknown): void {
  if (typeof id !== 'string' || id === '') throw invalid('the lock id must be a non-empty string')
  if (id.includes('\0')) throw invalid('the lock id must not contain NUL characters')
  if (Buffer.byteLength(id) > 1024) throw invalid('the lock id is longer than 1024 bytes')
}

function checkNamespace(namespace: unknown): string {
  const ns = namespace ?? DEFAULT_NAMESPACE
  if (typeof ns !== 'string' || ns === '' || ns.includes('\0') || Buffer.byteLength(ns) > 255)
    throw invalid('the namespace must be a non-empty string of at most 255 bytes, without NUL')
  return ns
}

function checkTtl(ttl: unknown): number {
  if (ttl === undefined) return DEFAULT_LOCK_TTL
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 10)
    throw invalid(`ttl must be a number of ms >= 10, not ${String(ttl)}`)
  return Math.ceil(ttl)
}

function invalid(detail: string): MicroError {
  return new MicroError(SYNC_ERROR_ID, detail, 400)
}

function canceled(id: string): MicroError {
  return new MicroError(SYNC_ERROR_ID, `waiting for lock ${JSON.stringify(id)} was canceled`, 499)
}

function closedError(name: string): MicroError {
  return new MicroError(SYNC_ERROR_ID, `the ${name} sync is closed`, 503)
}
