import { MicroError } from '../errors/errors.js'
import { type Lock, SYNC_ERROR_ID } from './sync.js'

/** What an engine hands back for a lock it granted. */
export interface Lease {
  /** The fencing token of this holding. */
  readonly token: number
  /** When the request that was granted was sent (ms since the epoch): the TTL runs from then at the latest. */
  since?: number
  /** Extend the lock by its TTL; false when it is no longer ours. May throw (engine down). */
  renew(): Promise<boolean>
  /** Give the lock back (owner-checked). */
  release(): Promise<void>
  /** Drop local resources without releasing the lock (a holder that died). */
  abandon?(): void
}

/**
 * A held lock: renews its lease every ttl/3, and aborts `lost` when a renewal finds the
 * lock gone or when no renewal has succeeded for a whole TTL (counted from when the last
 * successful request was sent, so `lost` fires no later than the engine lets it go).
 */
export class HeldLock implements Lock {
  readonly id: string
  readonly namespace: string
  readonly token: number
  readonly #ttl: number
  readonly #lease: Lease
  readonly #lost = new AbortController()
  readonly #onEnd: (lock: HeldLock) => void
  #released: Promise<void> | undefined
  #renewTimer: NodeJS.Timeout | undefined
  #lostTimer: NodeJS.Timeout | undefined

  constructor(id: string, namespace: string, ttl: number, lease: Lease, onEnd: (lock: HeldLock) => void) {
    this.id = id
    this.namespace = namespace
    this.token = lease.token
    this.#ttl = ttl
    this.#lease = lease
    this.#onEnd = onEnd
    this.#armLost((lease.since ?? Date.now()) + ttl)
    this.#scheduleRenewal(ttl / 3)
  }

  get lost(): AbortSignal {
    return this.#lost.signal
  }

  get held(): boolean {
    return this.#released === undefined && !this.#lost.signal.aborted
  }

  unlock(): Promise<void> {
    this.#released ??= (async () => {
      this.#stopTimers()
      this.#onEnd(this)
      if (this.#lost.signal.aborted) return
      await this.#lease.release().catch(() => {})
    })()
    return this.#released
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.unlock()
  }

  /** Stop renewing without releasing: the lock stays taken until its TTL runs out. */
  abandon(): void {
    this.#released ??= Promise.resolve()
    this.#stopTimers()
    this.#lease.abandon?.()
    this.#onEnd(this)
  }

  #scheduleRenewal(delay: number): void {
    this.#renewTimer = setTimeout(() => void this.#renew(), delay)
    this.#renewTimer.unref()
  }

  async #renew(): Promise<void> {
    if (!this.held) return
    const sentAt = Date.now()
    let ours: boolean
    try {
      ours = await this.#lease.renew()
    } catch {
      // Try again soon; if nothing gets through before the TTL, the lost timer fires.
      if (this.held) this.#scheduleRenewal(Math.min(this.#ttl / 10, 1000))
      return
    }
    if (!this.held) return
    if (!ours) {
      this.#loseWith('it expired or was taken by another holder')
      return
    }
    this.#armLost(sentAt + this.#ttl)
    this.#scheduleRenewal(this.#ttl / 3)
  }

  #armLost(at: number): void {
    clearTimeout(this.#lostTimer)
    this.#lostTimer = setTimeout(
      () => this.#loseWith('it could not be renewed within its TTL'),
      Math.max(0, at - Date.now()),
    )
    this.#lostTimer.unref()
  }

  #loseWith(why: string): void {
    if (!this.held) return
    this.#stopTimers()
    this.#lost.abort(new MicroError(SYNC_ERROR_ID, `lock ${JSON.stringify(this.id)} lost: ${why}`, 409))
    this.#onEnd(this)
    // Best effort: if it is somehow still ours, do not keep it without renewing it.
    void this.#lease.release().catch(() => {})
  }

  #stopTimers(): void {
    clearTimeout(this.#renewTimer)
    clearTimeout(this.#lostTimer)
  }
}
