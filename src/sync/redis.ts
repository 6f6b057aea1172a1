import { randomUUID } from 'node:crypto'
import type { Redis, RedisOptions } from 'ioredis'
import { acquireRedis, type RedisLink, redisAddress } from '../engines/redis.js'
import { BaseSync } from './base.js'
import type { Lease } from './lock-handle.js'

// KEYS: lock, fence. ARGV: owner, ttl ms. The token when taken; otherwise minus the ms
// left on the holder's TTL (0 when unknown).
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
local left = redis.call('PTTL', KEYS[1])
if left > 0 then return -left end
return 0
`
// KEYS: lock. ARGV: owner, ttl ms. 1 when extended, 0 when the lock is not ours.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`
// KEYS: lock. ARGV: owner.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

/** Options of {@link RedisSync}. */
export interface RedisSyncOptions {
  /** `redis://host:port` (or `host:port`). Default `redis://127.0.0.1:6379`. */
  address?: string
  /** Root of the keys. Default `micro:sync:`. */
  prefix?: string
  /** Longest pause between attempts while waiting, in ms. Default 50. */
  pollInterval?: number
  /** Extra ioredis options. */
  redis?: RedisOptions
}

type Scripts = {
  syncAcquire(lock: string, fence: string, owner: string, ttl: number): Promise<number>
  syncRenew(lock: string, owner: string, ttl: number): Promise<number>
  syncRelease(lock: string, owner: string): Promise<number>
}

/**
 * Locks in Redis: `SET lock owner NX PX ttl`, with owner-checked renewal and release in
 * Lua, and the fencing token from `INCR` on a per-lock counter in the same script (so
 * tokens only grow, whoever takes the lock). Waiters poll, sleeping no longer than the
 * holder's remaining TTL or `pollInterval`; a release in this process wakes its waiters
 * at once.
 */
export class RedisSync extends BaseSync {
  readonly name = 'redis'
  readonly #address: string
  readonly #root: string
  readonly #extra: RedisOptions
  #link: RedisLink<Redis & Scripts> | undefined
  #connecting: Promise<RedisLink<Redis & Scripts>> | undefined

  constructor(options: RedisSyncOptions = {}) {
    super()
    this.#address = redisAddress(options.address)
    this.#root = options.prefix ?? 'micro:sync:'
    this.#extra = options.redis ?? {}
    this.pollInterval = options.pollInterval ?? 50
  }

  /** The Redis key of a lock (its fencing counter is the same with `fence:` for `lock:`). */
  lockKey(namespace: string, id: string): string {
    return `${this.#root}lock:${encode(namespace)}:${id}`
  }

  protected override async tryAcquire(namespace: string, id: string, ttl: number): Promise<Lease | number> {
    const link = this.#link ?? (await this.#connect())
    const lock = this.lockKey(namespace, id)
    const fence = `${this.#root}fence:${encode(namespace)}:${id}`
    const owner = randomUUID()
    const got = await link.run((c) => c.syncAcquire(lock, fence, owner, ttl))
    if (got <= 0) return -got
    return {
      token: got,
      renew: async () => (await link.run((c) => c.syncRenew(lock, owner, ttl))) === 1,
      release: async () => {
        await link.run((c) => c.syncRelease(lock, owner))
      },
    }
  }

  protected async closeEngine(): Promise<void> {
    const link = this.#link ?? (await this.#connecting?.catch(() => undefined))
    this.#link = undefined
    await link?.release()
  }

  #connect(): Promise<RedisLink<Redis & Scripts>> {
    this.#connecting ??= (async () => {
      const link = await acquireRedis<Redis & Scripts>({
        address: this.#address,
        options: this.#extra,
        usedBy: 'the redis sync',
      })
      const client = link.client
      client.defineCommand('syncAcquire', { numberOfKeys: 2, lua: ACQUIRE })
      client.defineCommand('syncRenew', { numberOfKeys: 1, lua: RENEW })
      client.defineCommand('syncRelease', { numberOfKeys: 1, lua: RELEASE })
      if (this.closed) {
        await link.release()
        throw new Error('closed while connecting')
      }
      this.#link = link
      return link
    })()
    return this.#connecting
  }
}

function encode(name: string): string {
  return name.replace(/[%:]/g, (c) => (c === '%' ? '%25' : '%3A'))
}
