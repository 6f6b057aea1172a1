import type { Redis } from 'ioredis'

/** Test helper: delete every key under `prefix` (what queue groups left behind). */
export async function deleteKeys(address: string, prefix: string): Promise<void> {
  const { Redis: Client } = await import('ioredis')
  const redis: Redis = new Client(address)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
