import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import { lmdbDirectory } from '../engines/lmdb.js'
import { BaseSync } from './base.js'
import { FileLockTable } from './file-table.js'
import type { Lease } from './lock-handle.js'

/** Where the file sync keeps its lock table unless told otherwise: `~/.micro/sync`. */
export const DEFAULT_SYNC_DIRECTORY = lmdbDirectory(undefined, 'sync')

/** The shortest pause of a waiter, in ms; it doubles on every failed attempt up to `pollInterval`. */
const FIRST_PAUSE = 5

/** Options of {@link FileSync}. */
export interface FileSyncOptions {
  /** The directory of the lock table (created when missing). Default `~/.micro/sync`. A `file://` URL is taken too. */
  directory?: string
  /**
   * Hand out a fencing token only once it is flushed to disk, so that not even a crash of
   * the machine can hand it out twice. Default true.
   */
  durable?: boolean
  /** The longest pause between attempts of a waiter, in ms. Default 50. */
  pollInterval?: number
  /** How often records of holders that died are removed, in ms. Default 60 s. */
  sweepInterval?: number
}

/** The FileSync instances of this process with an open table, by table path: a release wakes them all. */
const neighbours = new Map<string, Set<FileSync>>()

/**
 * The embedded default: locks shared by every process on this machine that uses the same
 * directory, kept in an LMDB file (`<directory>/sync.mdb`) beside nothing else. Taking a
 * lock is one LMDB write transaction (serialised across processes): a compare-and-set of
 * its record plus the next fencing token. Expiry is judged on the machine's monotonic
 * clock, which every process shares, so a holder that dies (even by SIGKILL) loses the
 * lock once its TTL runs out.
 *
 * Waiting: a release wakes the waiters of this process at once. LMDB tells other
 * processes nothing, so they poll, cheaply (a read, without a transaction), backing off
 * from 5 ms to `pollInterval` with jitter. One machine only: not for a directory on a
 * network file system, nor shared between machines.
 */
export class FileSync extends BaseSync {
  readonly name = 'file'
  /** The directory of the lock table. */
  readonly directory: string
  readonly #durable: boolean
  readonly #sweepInterval: number
  #table: FileLockTable | undefined
  #opening: Promise<FileLockTable> | undefined
  #sweeper: NodeJS.Timeout | undefined

  constructor(options: FileSyncOptions = {}) {
    super()
    this.directory = resolve(lmdbDirectory(options.directory, 'sync'))
    this.#durable = options.durable ?? true
    this.#sweepInterval = options.sweepInterval ?? 60_000
    this.pollInterval = Math.max(options.pollInterval ?? 50, FIRST_PAUSE)
  }

  protected override async tryAcquire(namespace: string, id: string, ttl: number): Promise<Lease | number> {
    const table = this.#table ?? (await this.#open())
    const busy = table.peek(namespace, id)
    if (busy > 0) return busy
    const owner = randomUUID()
    const got = await table.take(namespace, id, owner, ttl, this.#durable)
    if (typeof got === 'number') return got
    return {
      token: got.token,
      renew: () => table.renew(namespace, id, owner, ttl),
      release: async () => {
        if (await table.release(namespace, id, owner)) this.#wakeNeighbours(table.path, namespace, id)
      },
    }
  }

  /** Doubles from 5 ms to `pollInterval`, each pause drawn from its upper half. */
  protected override pollDelay(attempt: number): number {
    const ceiling = Math.min(this.pollInterval, FIRST_PAUSE * 2 ** Math.min(attempt, 16))
    return ceiling * (0.5 + Math.random() * 0.5)
  }

  protected async closeEngine(): Promise<void> {
    clearInterval(this.#sweeper)
    const table = this.#table ?? (await this.#opening?.catch(() => undefined))
    this.#table = undefined
    if (!table) return
    const mine = neighbours.get(table.path)
    mine?.delete(this)
    if (mine?.size === 0) neighbours.delete(table.path)
    await table.close()
  }

  #wakeNeighbours(path: string, namespace: string, id: string): void {
    for (const sync of neighbours.get(path) ?? []) sync.wake(namespace, id)
  }

  #open(): Promise<FileLockTable> {
    this.#opening ??= (async () => {
      const table = await FileLockTable.open(this.directory)
      if (this.closed) {
        await table.close()
        throw new Error('closed while opening')
      }
      this.#table = table
      let mine = neighbours.get(table.path)
      if (!mine) {
        mine = new Set()
        neighbours.set(table.path, mine)
      }
      mine.add(this)
      void table.sweep().catch(() => {})
      this.#sweeper = setInterval(() => void table.sweep().catch(() => {}), this.#sweepInterval)
      this.#sweeper.unref()
      return table
    })()
    // A failed open is not kept: the next lock tries again.
    this.#opening.catch(() => {
      this.#opening = undefined
    })
    return this.#opening
  }
}
