import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Database, RootDatabase } from 'lmdb'
import { type LmdbHandle, openLmdb } from '../engines/lmdb.js'

/** A lock record as stored: its owner, when it expires and its TTL (both in monotonic ms). */
interface Holder {
  owner: string
  expiresAt: number
  ttl: number
}

type LockKey = [string, string]

const FENCE = 'fence'

/**
 * Milliseconds on the machine's monotonic clock (`CLOCK_MONOTONIC` on Linux, the same in
 * every process, since boot). Expiries are judged on it, so a wall-clock step (NTP, a user
 * setting the time) can neither free a live holder's lock nor keep a dead holder's.
 */
export function monotonicNow(): number {
  const [seconds, nanos] = process.hrtime()
  return seconds * 1000 + nanos / 1e6
}

/**
 * The lock table of one directory (`<directory>/sync.mdb`), shared by every process that
 * opens it. Taking, renewing and releasing a lock are LMDB write transactions, which LMDB
 * serialises across processes: each reads the record and writes it back as one atomic
 * compare-and-set. The fencing counter (one for every lock) is in the same file and taken
 * in the same transaction, so tokens never repeat, across processes and restarts.
 */
export class FileLockTable {
  /** The LMDB file. */
  readonly path: string
  readonly #handle: LmdbHandle<Buffer, string>
  readonly #root: RootDatabase<Buffer, string>
  readonly #locks: Database<Buffer, LockKey>
  readonly #meta: Database<Buffer, string>

  private constructor(path: string, handle: LmdbHandle<Buffer, string>) {
    this.path = path
    this.#handle = handle
    this.#root = handle.root
    this.#locks = this.#root.openDB<Buffer, LockKey>({ name: 'locks', encoding: 'binary' })
    this.#meta = this.#root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' })
  }

  /** Open (creating when missing) the table in `directory`. The LMDB module loads here. */
  static async open(directory: string): Promise<FileLockTable> {
    const path = join(resolve(directory), 'sync.mdb')
    try {
      await mkdir(resolve(directory), { recursive: true })
      // `separateFlushed`: renewals and releases resolve once committed (visible to every
      // process); only a new token waits for the disk.
      return new FileLockTable(path, await openLmdb(path, { maxDbs: 4, separateFlushed: true }))
    } catch (error) {
      throw new Error(`cannot open the lock table ${path}: ${(error as Error).message}`, { cause: error })
    }
  }

  /**
   * A look without a transaction (readers never wait in LMDB): the ms left on a live
   * holder's TTL, or 0 when the lock looks free. Only `take` decides.
   */
  peek(namespace: string, id: string): number {
    return msLeft(decodeHolder(this.#locks.get([namespace, id])), monotonicNow())
  }

  /**
   * Take the lock for `owner` when it is free or expired: its fencing token, or the ms left
   * on the holder's TTL. With `durable`, the token is on disk before it is handed out, so a
   * crash of the machine cannot hand it out again.
   */
  async take(
    namespace: string,
    id: string,
    owner: string,
    ttl: number,
    durable: boolean,
  ): Promise<number | { token: number }> {
    const key: LockKey = [namespace, id]
    const got = await this.#root.transaction(() => {
      const now = monotonicNow()
      const left = msLeft(decodeHolder(this.#locks.get(key)), now)
      if (left > 0) return left
      const token = this.#lastToken() + 1
      this.#meta.put(FENCE, Buffer.from(String(token)))
      this.#locks.put(key, encodeHolder({ owner, expiresAt: now + ttl, ttl }))
      return { token }
    })
    if (typeof got !== 'number' && durable) {
      try {
        await this.#root.flushed
      } catch (error) {
        // Not handed out, so not held either: free it rather than block others for a TTL.
        await this.release(namespace, id, owner).catch(() => {})
        throw error
      }
    }
    return got
  }

  /** Extend the lock by `ttl` if `owner` still holds it; false when it expired or changed hands. */
  renew(namespace: string, id: string, owner: string, ttl: number): Promise<boolean> {
    const key: LockKey = [namespace, id]
    return this.#root.transaction(() => {
      const now = monotonicNow()
      const holder = decodeHolder(this.#locks.get(key))
      if (holder?.owner !== owner || msLeft(holder, now) === 0) return false
      this.#locks.put(key, encodeHolder({ owner, expiresAt: now + ttl, ttl }))
      return true
    })
  }

  /** Free the lock if `owner` holds it; true when it did. */
  release(namespace: string, id: string, owner: string): Promise<boolean> {
    const key: LockKey = [namespace, id]
    return this.#root.transaction(() => {
      if (decodeHolder(this.#locks.get(key))?.owner !== owner) return false
      this.#locks.remove(key)
      return true
    })
  }

  /** Remove the record of a lock whoever holds it (tests: a lock lost behind its holder's back); true when there was one. */
  forget(namespace: string, id: string): Promise<boolean> {
    const key: LockKey = [namespace, id]
    return this.#root.transaction(() => {
      if (this.#locks.get(key) === undefined) return false
      this.#locks.remove(key)
      return true
    })
  }

  /**
   * Remove expired records (holders that died), at most `limit` per call, re-checking each
   * inside the write transaction. Released locks leave no record; this clears the rest.
   */
  async sweep(limit = 1000): Promise<number> {
    const now = monotonicNow()
    const expired: LockKey[] = []
    for (const { key, value } of this.#locks.getRange({})) {
      if (msLeft(decodeHolder(value), now) === 0) expired.push(key)
      if (expired.length >= limit) break
    }
    if (expired.length === 0) return 0
    return this.#root.transaction(() => {
      let removed = 0
      for (const key of expired) {
        if (msLeft(decodeHolder(this.#locks.get(key)), monotonicNow()) > 0) continue
        this.#locks.remove(key)
        removed++
      }
      return removed
    })
  }

  /** Let go of the LMDB environment (closed once nothing else in the process uses it). */
  close(): Promise<void> {
    return this.#handle.release()
  }

  #lastToken(): number {
    const raw = this.#meta.get(FENCE)
    if (raw === undefined) return 0
    const last = Number(raw.toString())
    // Refusing beats guessing: a guess could hand out a token some holder already had.
    if (!Number.isSafeInteger(last) || last < 0)
      throw new Error(`the fencing counter in ${this.path} is unreadable; tokens cannot be handed out`)
    return last
  }
}

/**
 * The ms left on a holder's TTL; 0 when there is no holder, or it has expired, or its
 * record cannot have been written on this boot (expiring further out than its TTL: the
 * monotonic clock restarted, so the machine rebooted and its holder is gone).
 */
function msLeft(holder: Holder | undefined, now: number): number {
  if (!holder) return 0
  const left = holder.expiresAt - now
  return left > 0 && left <= holder.ttl ? Math.ceil(left) : 0
}

function encodeHolder(holder: Holder): Buffer {
  return Buffer.from(JSON.stringify(holder))
}

/**
 * A record as a holder, or undefined when absent or unreadable. An unreadable record was
 * not written by a lock holder (they write only whole records, in a transaction), so it
 * guards nothing: it counts as free and is overwritten by the next taker.
 */
function decodeHolder(raw: Buffer | undefined): Holder | undefined {
  if (raw === undefined) return undefined
  try {
    const value = JSON.parse(raw.toString()) as Partial<Holder> | null
    if (
      typeof value?.owner === 'string' &&
      typeof value.expiresAt === 'number' &&
      Number.isFinite(value.expiresAt) &&
      typeof value.ttl === 'number' &&
      value.ttl > 0
    )
      return { owner: value.owner, expiresAt: value.expiresAt, ttl: value.ttl }
  } catch {
    // Not JSON: treated as free, like any other unreadable record.
  }
  return undefined
}
