import { createHash } from 'node:crypto'
import type { Pool, PoolClient, PoolConfig } from 'pg'
import { acquirePostgres, type PostgresLink } from '../engines/postgres.js'
import { BaseSync } from './base.js'
import type { Lease } from './lock-handle.js'
import { LockTimeoutError } from './sync.js'

const DDL_LOCK = 0x6d_5f_73_79_6e_63n // "m_sync"

/** Options of {@link PostgresSync}. */
export interface PostgresSyncOptions {
  /** `postgres://user:pass@host:port/database`. Default `postgres://127.0.0.1:5432/postgres`. */
  address?: string
  /** Schema of the fencing sequence. Default `micro_sync`. */
  schema?: string
  /**
   * Pool settings. Every held lock and every waiter uses a connection: `max` defaults to 20.
   * With them the sync gets a pool of its own instead of the one the process's PostgreSQL
   * blocks share.
   */
  pool?: PoolConfig
}

/**
 * Locks as PostgreSQL advisory locks, each on its own pooled connection inside an open
 * transaction (`pg_advisory_xact_lock` on a 64-bit hash of namespace and id).
 *
 * TTL: the transaction runs with `idle_in_transaction_session_timeout = ttl`, and renewal
 * (every ttl/3) is a `SELECT 1` on it. A holder that stops renewing (hung, partitioned)
 * has its session ended by the server after the TTL, which frees the lock; a holder whose
 * process dies frees it at once, when its connection closes. Waiting is PostgreSQL's own
 * lock queue (`lock_timeout = wait`), so a release wakes the next waiter immediately.
 * Fencing tokens come from a sequence (`<schema>.fencing`), taken after the lock is
 * granted: sequences never go back, even when a transaction is rolled back.
 *
 * The pool is the one the process's PostgreSQL blocks share for the address
 * (src/engines/postgres.ts): a lock borrows one of its connections for as long as it is
 * held or waited for, so held locks and waiters count against the store's queries too.
 */
export class PostgresSync extends BaseSync {
  readonly name = 'postgres'
  readonly #options: PostgresSyncOptions
  #link: PostgresLink | undefined
  #ready: Promise<Pool> | undefined

  constructor(options: PostgresSyncOptions = {}) {
    super()
    this.#options = options
  }

  /** The advisory lock key of a lock: the first 8 bytes of SHA-256(namespace NUL id), signed. */
  static advisoryKey(namespace: string, id: string): bigint {
    const digest = createHash('sha256').update(`${namespace}\0${id}`).digest()
    return digest.readBigInt64BE(0)
  }

  protected override async acquire(
    namespace: string,
    id: string,
    ttl: number,
    wait: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Lease> {
    const pool = await this.#connect()
    const key = PostgresSync.advisoryKey(namespace, id).toString()
    const client = await pool.connect()
    let broken = false
    // The server ends the session when the TTL passes without renewal: the error arrives
    // as an event on the checked-out client, which must have a listener.
    const onError = () => {
      broken = true
    }
    client.on('error', onError)
    const giveBack = (destroy: boolean) => {
      client.off('error', onError)
      client.release(destroy || broken)
    }
    try {
      await client.query('BEGIN')
      await client.query(
        `SELECT set_config('idle_in_transaction_session_timeout', $1, true), set_config('lock_timeout', $2, true)`,
        [String(ttl), String(wait ?? 0)],
      )
      if (wait === 0) {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
          key,
        ])
        if (!rows[0]?.ok) throw new LockTimeoutError(id, namespace, 0)
      } else {
        await this.#waitFor(pool, client, key, signal).catch((error) => {
          if ((error as { code?: unknown }).code === '55P03')
            throw new LockTimeoutError(id, namespace, wait ?? 0)
          throw error
        })
      }
      // The idle timer restarts when this statement ends, so the TTL runs from no earlier
      // than when it was sent.
      const since = Date.now()
      const { rows } = await client.query<{ token: string }>(
        `SELECT nextval('${this.#schema()}.fencing') AS token`,
      )
      return {
        token: Number(rows[0]?.token),
        since,
        renew: async () => {
          try {
            await client.query('SELECT 1')
            return true
          } catch {
            // The session is gone, and the lock with it.
            broken = true
            return false
          }
        },
        release: async () => {
          try {
            if (!broken) await client.query('ROLLBACK')
            giveBack(false)
          } catch (error) {
            giveBack(true)
            throw error
          }
        },
        abandon: () => {
          // Keep the transaction open and idle: the server ends it after the TTL.
          client.on('error', () => giveBack(true))
        },
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      giveBack(true)
      throw error
    }
  }

  protected async closeEngine(): Promise<void> {
    await this.#ready?.catch(() => undefined)
    const link = this.#link
    this.#link = undefined
    await link?.release()
  }

  /**
   * Blocks in PostgreSQL's lock queue. An abort cancels the statement from another
   * connection, again every 100 ms until it ends: a cancel that arrives before the
   * statement has started does nothing.
   */
  async #waitFor(
    pool: Pool,
    client: PoolClient,
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (signal?.aborted) throw signal.reason
    const pid = (client as PoolClient & { processID?: number }).processID
    let waiting = true
    const cancel = () => {
      if (!waiting) return
      void pool
        .query('SELECT pg_cancel_backend($1)', [pid])
        .catch(() => {})
        .finally(() => setTimeout(cancel, 100).unref())
    }
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [key])
    } finally {
      waiting = false
      signal?.removeEventListener('abort', cancel)
    }
  }

  #schema(): string {
    return `"${(this.#options.schema ?? 'micro_sync').replaceAll('"', '""')}"`
  }

  #connect(): Promise<Pool> {
    this.#ready ??= (async () => {
      const link = await acquirePostgres({
        address: this.#options.address,
        config: this.#options.pool,
        usedBy: 'the postgres sync',
      })
      const pool = link.pool
      try {
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query('SELECT pg_advisory_xact_lock($1)', [DDL_LOCK.toString()])
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema()}`)
          await client.query(`CREATE SEQUENCE IF NOT EXISTS ${this.#schema()}.fencing`)
          await client.query('COMMIT')
          client.release()
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          client.release(true)
          throw error
        }
      } catch (error) {
        await link.release()
        throw error
      }
      this.#link = link
      return pool
    })()
    this.#ready.catch(() => {
      this.#ready = undefined
    })
    return this.#ready
  }
}
