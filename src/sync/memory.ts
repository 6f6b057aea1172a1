import { randomUUID } from 'node:crypto'
import { BaseSync } from './base.js'
import type { Lease } from './lock-handle.js'

interface Holder {
  owner: string
  expiresAt: number
}

/**
 * The locks of one process: who holds each, until when, and each lock's last fencing
 * token. Several MemorySync instances can share one table to contend with each other.
 */
export class MemoryLockTable {
  readonly #holders = new Map<string, Holder>()
  readonly #tokens = new Map<string, number>()
  readonly #listeners = new Set<(key: string) => void>()

  /** Take the lock when free or expired: its new token, or the ms left on the holder's TTL. */
  tryAcquire(key: string, owner: string, ttl: number): number | { token: number } {
    const now = Date.now()
    const holder = this.#holders.get(key)
    if (holder && holder.expiresAt > now) return holder.expiresAt - now
    this.#holders.set(key, { owner, expiresAt: now + ttl })
    const token = (this.#tokens.get(key) ?? 0) + 1
    this.#tokens.set(key, token)
    return { token }
  }

  /** Extend a lock `owner` holds by `ttl` ms; false when it no longer holds it. */
  renew(key: string, owner: string, ttl: number): boolean {
    const holder = this.#holders.get(key)
    if (holder?.owner !== owner || holder.expiresAt <= Date.now()) return false
    holder.expiresAt = Date.now() + ttl
    return true
  }

  /** Release a lock if `owner` holds it. */
  release(key: string, owner: string): void {
    if (this.#holders.get(key)?.owner !== owner) return
    this.#holders.delete(key)
    for (const listener of this.#listeners) listener(key)
  }

  /** Drop a lock whoever holds it (tests: a lock lost behind its holder's back). */
  steal(key: string): void {
    this.#holders.delete(key)
    for (const listener of this.#listeners) listener(key)
  }

  /** Called with the key of every lock released. */
  onRelease(listener: (key: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

let shared: MemoryLockTable | undefined

/** The table every MemorySync of this process uses unless given its own. */
export function sharedLockTable(): MemoryLockTable {
  shared ??= new MemoryLockTable()
  return shared
}

/** Options of {@link MemorySync}. */
export interface MemorySyncOptions {
  /** Default: the process-wide table, so every MemorySync of the process contends. */
  table?: MemoryLockTable
}

/** Locks within this process. A waiter is woken as soon as the lock is released. */
export class MemorySync extends BaseSync {
  readonly name = 'memory'
  readonly #table: MemoryLockTable
  readonly #unsubscribe: () => void

  constructor(options: MemorySyncOptions = {}) {
    super()
    this.#table = options.table ?? sharedLockTable()
    this.#unsubscribe = this.#table.onRelease((key) => {
      const [namespace = '', id = ''] = key.split('\0')
      this.wake(namespace, id)
    })
  }

  /** The key of a lock in the table. */
  static keyOf(namespace: string, id: string): string {
    return `${namespace}\0${id}`
  }

  protected override async tryAcquire(namespace: string, id: string, ttl: number): Promise<Lease | number> {
    const key = MemorySync.keyOf(namespace, id)
    const owner = randomUUID()
    const got = this.#table.tryAcquire(key, owner, ttl)
    if (typeof got === 'number') return got
    return {
      token: got.token,
      renew: async () => this.#table.renew(key, owner, ttl),
      release: async () => this.#table.release(key, owner),
    }
  }

  protected async closeEngine(): Promise<void> {
    this.#unsubscribe()
  }
}
