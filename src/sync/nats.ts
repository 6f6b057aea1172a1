import { randomUUID } from 'node:crypto'
import type { KV, KvOptions } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { acquireNats, type NatsLink } from '../engines/nats.js'
import { encodeKey } from '../store/nats-names.js'
import { importPeer } from '../util/optional-import.js'
import { BaseSync } from './base.js'
import type { Lease } from './lock-handle.js'

/** Options of {@link NatsSync}. */
export interface NatsSyncOptions {
  /** `nats://host:port` (comma-separated for several). Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Use this connection instead of the process's shared one (it is not closed by `close()`). */
  connection?: NatsConnection
  /** The KV bucket of the locks. Default `micro_sync`. */
  bucket?: string
  /** Settings for creating the bucket (replicas, storage, ...). */
  bucketOptions?: Partial<KvOptions>
  /** Longest pause between attempts while waiting, in ms. Default 50. */
  pollInterval?: number
}

interface Seen {
  revision: number
  at: number
}

/**
 * Locks in a NATS JetStream KV bucket, one key per lock (`<ns>.<id>`, escaped). Taking a
 * free lock is `create` (succeeds only if the key is absent or deleted); the revision it
 * returns is the fencing token (a stream sequence: it only grows). Renewal is `update`
 * against the last revision, release a `delete` against it, so both are owner-checked.
 *
 * TTL without clocks (NATS before 2.11 has no per-key TTL): the holder rewrites the key
 * every ttl/3. A waiter that sees the same revision for a whole TTL, timed on its own
 * clock from when it first saw it, takes the lock over with `update` against that
 * revision. So clock skew between machines does not matter, but a waiter that arrives
 * after the holder died waits up to one full TTL from its arrival.
 */
export class NatsSync extends BaseSync {
  readonly name = 'nats'
  readonly #options: NatsSyncOptions
  readonly #seen = new Map<string, Seen>()
  #kv: KV | undefined
  #link: NatsLink | undefined
  #connecting: Promise<KV> | undefined

  constructor(options: NatsSyncOptions = {}) {
    super()
    this.#options = options
    this.pollInterval = options.pollInterval ?? 50
  }

  /** The KV key of a lock. */
  static keyOf(namespace: string, id: string): string {
    return `${encodeKey(namespace)}.${encodeKey(id)}`
  }

  protected override async tryAcquire(namespace: string, id: string, ttl: number): Promise<Lease | number> {
    const kv = this.#kv ?? (await this.#connect())
    const key = NatsSync.keyOf(namespace, id)
    const value = JSON.stringify({ owner: randomUUID(), ttl })
    try {
      return this.#lease(kv, key, value, await kv.create(key, value))
    } catch (error) {
      if (!isWrongSequence(error)) throw error
    }
    const entry = await kv.get(key)
    if (entry?.operation !== 'PUT') return 0
    const now = Date.now()
    const seen = this.#seen.get(key)
    if (seen?.revision !== entry.revision) {
      if (this.#seen.size > 10_000) this.#seen.clear()
      this.#seen.set(key, { revision: entry.revision, at: now })
      return ttlOf(entry.json(), ttl)
    }
    const left = seen.at + ttlOf(entry.json(), ttl) - now
    if (left > 0) return left
    // Unchanged for a whole TTL: the holder stopped renewing. Take over, unless someone
    // else changed it first.
    try {
      const revision = await kv.update(key, value, entry.revision)
      this.#seen.delete(key)
      return this.#lease(kv, key, value, revision)
    } catch (error) {
      if (!isWrongSequence(error)) throw error
      return 0
    }
  }

  protected async closeEngine(): Promise<void> {
    await this.#connecting?.catch(() => undefined)
    const link = this.#link
    this.#link = undefined
    await link?.release()
  }

  #lease(kv: KV, key: string, value: string, token: number): Lease {
    this.#seen.delete(key)
    let revision = token
    return {
      token,
      renew: async () => {
        try {
          revision = await kv.update(key, value, revision)
          return true
        } catch (error) {
          if (isWrongSequence(error)) return false
          throw error
        }
      },
      release: async () => {
        await kv.delete(key, { previousSeq: revision }).catch((error) => {
          if (!isWrongSequence(error)) throw error
        })
      },
    }
  }

  #connect(): Promise<KV> {
    this.#connecting ??= (async () => {
      const usedBy = 'the nats sync'
      const { Kvm } = await importPeer<typeof import('@nats-io/kv')>('@nats-io/kv', usedBy)
      const link = acquireNats({
        address: this.#options.address,
        connection: this.#options.connection,
        usedBy,
      })
      try {
        const nc: NatsConnection = await link.ready
        this.#kv = await new Kvm(nc).create(this.#options.bucket ?? 'micro_sync', {
          history: 1,
          ...this.#options.bucketOptions,
        })
      } catch (error) {
        await link.release()
        throw error
      }
      this.#link = link
      return this.#kv
    })()
    this.#connecting.catch(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }
}

/** JetStream's "wrong last sequence" (10071): the key changed since we looked. */
function isWrongSequence(error: unknown): boolean {
  return (error as { code?: unknown }).code === 10071 || /wrong last sequence/.test(String(error))
}

function ttlOf(value: unknown, fallback: number): number {
  const ttl = (value as { ttl?: unknown } | null)?.ttl
  return typeof ttl === 'number' && ttl > 0 ? ttl : fallback
}
