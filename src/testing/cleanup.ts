import { importPeer } from '../util/optional-import.js'

type NatsModule = typeof import('@nats-io/transport-node')
type JetStreamModule = typeof import('@nats-io/jetstream')
type RedisModule = typeof import('ioredis')

/** Delete every JetStream stream whose name starts with `prefix` (test clean-up). */
export async function removeNatsStreams(address: string, prefix: string): Promise<void> {
  const nats = await importPeer<NatsModule>('@nats-io/transport-node', 'removeNatsStreams')
  const { jetstreamManager } = await importPeer<JetStreamModule>('@nats-io/jetstream', 'removeNatsStreams')
  const nc = await nats.connect({ servers: address })
  try {
    const jsm = await jetstreamManager(nc)
    const doomed: string[] = []
    for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) doomed.push(name)
    for (const name of doomed) await jsm.streams.delete(name)
  } finally {
    await nc.close()
  }
}

/** Delete every Redis key that starts with `prefix` (test clean-up). */
export async function removeRedisKeys(address: string, prefix: string): Promise<void> {
  const { Redis } = await importPeer<RedisModule>('ioredis', 'removeRedisKeys')
  const redis = new Redis(address, { lazyConnect: true })
  try {
    await redis.connect()
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
