import { randomUUID } from 'node:crypto'
import { after, describe } from 'node:test'
import { testServer } from '../testing/servers.js'
import { syncConformance } from './conformance.js'
import { RedisSync } from './redis.js'

const redis = testServer('redis')
// Fencing counters are kept for good; a prefix of our own lets the test remove them.
const prefix = `micro:sync-test:${randomUUID()}:`

async function withClient<T>(fn: (client: import('ioredis').Redis) => Promise<T>): Promise<T> {
  const { Redis } = await import('ioredis')
  const client = new Redis(redis.address as string)
  try {
    return await fn(client)
  } finally {
    client.disconnect()
  }
}

describe('redis sync', { skip: redis.skip }, () => {
  const keys = new RedisSync({ prefix })
  after(() =>
    withClient(async (client) => {
      const found = await client.keys(`${prefix}*`)
      if (found.length > 0) await client.del(...found)
    }),
  )
  syncConformance('redis', () => new RedisSync({ address: redis.address, prefix }), {
    steal: (namespace, id) => withClient((client) => client.del(keys.lockKey(namespace, id)).then(() => {})),
  })
})
