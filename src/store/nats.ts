import type { KV, Kvm, KvOptions } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { acquireNats, type NatsLink } from '../engines/nats.js'
import { importPeer } from '../util/optional-import.js'
import { BaseStore } from './base.js'
import { bucketName, decodeKey, encodeKey, namespaceBucketPrefix, parseBucket } from './nats-names.js'
import { compareKeys, makeRecord, matches, type Query, type Scope } from './scope.js'
import type { StoreRecord, TableRef } from './store.js'
import { decodeEntry, encodeEntry, entryExpiresAt, type StoredValue } from './value.js'

/** Options of {@link NatsStore}. */
export interface NatsStoreOptions {
  /** `nats://host:port` (comma-separated for several). Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Use this connection instead of the process's shared one (it is not closed by `close()`). */
  connection?: NatsConnection
  /** Buckets are `<bucketPrefix><ns>_<db>_<table>`. Default `micro_store_`. */
  bucketPrefix?: string
  /** Settings of the buckets this store creates (`ttl` as a bucket-wide max age, replicas, storage...). */
  bucket?: Partial<KvOptions>
  /** How often expired records of the buckets this store has used are deleted, in ms. Default 60 s. */
  sweepInterval?: number
}

/**
 * Records in NATS JetStream KV: one bucket per namespace/database/table (history 1),
 * keys escaped to KV's alphabet (nats-names.ts), the value holding the record with its
 * metadata and expiry time. Expiry is kept by the store (NATS before 2.11 has no per-key
 * TTL): expired records are invisible at once and deleted by a periodic sweep, so they
 * use space until then; a bucket-wide max age is the `bucket.ttl` option. Scans list the
 * bucket's keys and fetch matching records, one request each (batched 64 at a time).
 */
export class NatsStore extends BaseStore {
  readonly name = 'nats'
  readonly #options: NatsStoreOptions
  readonly #prefix: string
  readonly #buckets = new Map<string, Promise<KV>>()
  #kvm: Kvm | undefined
  #link: NatsLink | undefined
  #connecting: Promise<Kvm> | undefined
  #sweeper: NodeJS.Timeout | undefined

  constructor(options: NatsStoreOptions = {}) {
    super()
    this.#options = options
    this.#prefix = options.bucketPrefix ?? 'micro_store_'
  }

  protected async getOne(scope: Scope, key: string): Promise<StoreRecord | undefined> {
    return this.#missingAsUndefined(async () => this.#get(await this.#bucket(scope, false), key, Date.now()))
  }

  protected async putOne(
    scope: Scope,
    key: string,
    value: StoredValue,
    metadata: string,
    expiresAt: number,
  ): Promise<void> {
    const entry = encodeEntry(value, metadata, expiresAt)
    try {
      await (await this.#bucket(scope, true)).put(encodeKey(key), entry)
    } catch {
      // The bucket may have been deleted since it was opened: forget it and try once more.
      this.#buckets.delete(bucketName(this.#prefix, scope))
      await (await this.#bucket(scope, true)).put(encodeKey(key), entry)
    }
  }

  protected async deleteOne(scope: Scope, key: string): Promise<void> {
    await this.#missingAsUndefined(async () => (await this.#bucket(scope, false)).delete(encodeKey(key)))
  }

  protected async scanRecords(scope: Scope, query: Query): Promise<StoreRecord[]> {
    return (await this.#missingAsUndefined(() => this.#scan(scope, query))) ?? []
  }

  protected async scanKeys(scope: Scope, query: Query): Promise<string[]> {
    return ((await this.#missingAsUndefined(() => this.#scan(scope, query))) ?? []).map((r) => r.key)
  }

  protected async listTables(namespace: string): Promise<TableRef[]> {
    const kvm = this.#kvm ?? (await this.#connect())
    const nsPrefix = namespaceBucketPrefix(this.#prefix, namespace)
    const out: TableRef[] = []
    for await (const status of kvm.list()) {
      const ref = parseBucket(status.bucket, nsPrefix)
      if (!ref) continue
      const live = await this.#scan(
        { namespace, ...ref },
        { prefix: '', suffix: '', offset: 0, limit: 1, desc: false },
      )
      if (live.length > 0) out.push(ref)
    }
    return out
  }

  protected async closeEngine(): Promise<void> {
    clearInterval(this.#sweeper)
    await this.#connecting?.catch(() => undefined)
    const link = this.#link
    this.#link = undefined
    await link?.release()
  }

  async #get(kv: KV, key: string, now: number): Promise<StoreRecord | undefined> {
    const entry = await kv.get(encodeKey(key))
    if (entry?.operation !== 'PUT') return undefined
    const { value, metadata, expiresAt } = decodeEntry(entry.value)
    if (expiresAt !== 0 && expiresAt <= now) return undefined
    return makeRecord(key, value, metadata, expiresAt, now)
  }

  async #scan(scope: Scope, query: Query): Promise<StoreRecord[]> {
    const kv = await this.#bucket(scope, false)
    const keys: string[] = []
    for await (const encoded of await kv.keys()) {
      const key = decodeKey(encoded)
      if (matches(key, query)) keys.push(key)
    }
    keys.sort(query.desc ? (a, b) => compareKeys(b, a) : compareKeys)
    const out: StoreRecord[] = []
    const now = Date.now()
    let skipped = 0
    for (let i = 0; i < keys.length; i += 64) {
      const batch = await Promise.all(keys.slice(i, i + 64).map((key) => this.#get(kv, key, now)))
      for (const record of batch) {
        if (!record) continue
        if (skipped < query.offset) skipped++
        else out.push(record)
        if (query.limit !== 0 && out.length >= query.limit) return out
      }
    }
    return out
  }

  /**
   * The bucket's handle. Without `create`, a bucket not known here is checked first (its
   * status), so a missing one gives StreamNotFoundError rather than a publish nobody
   * answers. Only buckets known to exist are remembered.
   */
  #bucket(scope: Scope, create: boolean): Promise<KV> {
    const name = bucketName(this.#prefix, scope)
    let bucket = this.#buckets.get(name)
    if (bucket) return bucket
    bucket = (async () => {
      const kvm = this.#kvm ?? (await this.#connect())
      if (create) return kvm.create(name, { history: 1, ...this.#options.bucket })
      const kv = await kvm.open(name)
      await kv.status()
      return kv
    })()
    this.#buckets.set(name, bucket)
    bucket.catch(() => this.#buckets.delete(name))
    return bucket
  }

  async #missingAsUndefined<R>(run: () => Promise<R>): Promise<R | undefined> {
    try {
      return await run()
    } catch (error) {
      if ((error as Error).name === 'StreamNotFoundError') return undefined
      throw error
    }
  }

  #connect(): Promise<Kvm> {
    this.#connecting ??= (async () => {
      const usedBy = 'the nats store'
      const { Kvm } = await importPeer<typeof import('@nats-io/kv')>('@nats-io/kv', usedBy)
      const link = acquireNats({
        address: this.#options.address,
        connection: this.#options.connection,
        usedBy,
      })
      let nc: NatsConnection
      try {
        nc = await link.ready
      } catch (error) {
        await link.release()
        throw error
      }
      this.#link = link
      this.#kvm = new Kvm(nc)
      this.#sweeper = setInterval(() => void this.#sweep(), this.#options.sweepInterval ?? 60_000)
      this.#sweeper.unref()
      return this.#kvm
    })()
    // A failed connect is not remembered: the next call tries again.
    this.#connecting.catch(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  /** Deletes expired records of the buckets this store created, only if not rewritten since. */
  async #sweep(): Promise<void> {
    const now = Date.now()
    for (const bucket of this.#buckets.values()) {
      try {
        const kv = await bucket
        for await (const key of await kv.keys()) {
          if (this.closed) return
          const entry = await kv.get(key)
          if (entry?.operation !== 'PUT') continue
          const expiresAt = entryExpiresAt(entry.value)
          if (expiresAt !== 0 && expiresAt <= now) await kv.delete(key, { previousSeq: entry.revision })
        }
      } catch {
        // the next sweep tries again
      }
    }
  }
}
