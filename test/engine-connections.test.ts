import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import { NATS_CONNECTION_NAME, openNatsConnections } from '../src/engines/nats.js'
import { openRedisConnections } from '../src/engines/redis.js'
import { createLogger } from '../src/logger/logger.js'
import { createService, type Service } from '../src/service/service.js'
import { EngineServer, engineSkip } from './support/engine-server.js'

// Each engine gets a server of its own, so what it counts is this process's connections only.

const logger = createLogger({ level: 'silent' })

/** Set variables for the duration of a test (createService reads process.env). */
function withEnv(env: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]))
  Object.assign(process.env, env)
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

/** Waits (bounded) until `check` resolves true; the last value is in the error. */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 20_000
  for (;;) {
    const value = await read()
    if (check(value)) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`)
    await sleep(50)
  }
}

/** Exercise every block the service has: a call, a publish heard by a subscriber, an event, a record, a lock. */
async function useEveryBlock(service: Service, heard: () => number): Promise<void> {
  assert.deepEqual(await service.client.call(service.name, 'Echo.Say', { text: 'hi' }), { text: 'hi' })
  await service.client.publish('engines.ping', { n: 1 })
  await until(
    async () => heard(),
    (n) => n >= 1,
    'the subscriber to hear the publish',
  )
  const topic = `engines-${randomUUID().slice(0, 8)}`
  await service.events.publish(topic, { n: 1 })
  for await (const event of service.events.consume<{ n: number }>(topic, { group: 'g', offset: 1 })) {
    assert.equal(event.payload.n, 1)
    break
  }
  await service.store.write('k', 'v')
  assert.equal((await service.store.read('k')).value, 'v')
  const lock = await service.sync.lock('engines-lock')
  await lock.unlock()
}

function makeService(name: string): { service: Service; heard: () => number } {
  const service = createService({ name, logger, handleSignals: false })
  service.handle({ Say: async (req: { text: string }) => req }, { name: 'Echo' })
  let count = 0
  service.subscribe('engines.ping', async () => {
    count++
  })
  return { service, heard: () => count }
}

describe('one service with every block on NATS', { skip: engineSkip('nats') }, () => {
  let nats: EngineServer
  before(async () => {
    nats = await EngineServer.start('nats', { monitor: true })
  })
  after(() => nats?.remove())

  interface Connz {
    num_connections: number
    connections: { name?: string }[]
  }
  const connz = async (): Promise<Connz> => (await fetch(`${nats.monitor}/connz`)).json() as Promise<Connz>

  test('registry, transport, broker, events, store and sync hold exactly one NATS connection', async () => {
    const restore = withEnv(
      Object.fromEntries(
        ['REGISTRY', 'TRANSPORT', 'BROKER', 'EVENTS', 'STORE', 'SYNC'].flatMap((block) => [
          [`MICRO_${block}`, 'nats'],
          [`MICRO_${block}_ADDRESS`, nats.url],
        ]),
      ),
    )
    const { service, heard } = makeService('one-nats')
    try {
      assert.equal((await connz()).num_connections, 0, 'nothing is opened before start')
      await service.start()
      await useEveryBlock(service, heard)
      const seen = await connz()
      assert.equal(seen.num_connections, 1, `connections: ${JSON.stringify(seen.connections)}`)
      assert.equal(seen.connections[0]?.name, NATS_CONNECTION_NAME)
      assert.equal(openNatsConnections(), 1)
    } finally {
      await service.stop()
      restore()
    }
    await until(connz, (c) => c.num_connections === 0, 'the connection to close at stop')
    assert.equal(openNatsConnections(), 0)
  })
})

describe('one service with store, sync, events and broker on Redis', {
  skip: engineSkip('redis'),
}, () => {
  let redis: EngineServer
  let checker: Redis
  before(async () => {
    redis = await EngineServer.start('redis')
    const { Redis } = await import('ioredis')
    checker = new Redis(redis.url)
  })
  after(async () => {
    checker?.disconnect()
    await redis?.remove()
  })

  /** The names of our connections the server has, sorted (the checker's own has none). */
  const ours = async (): Promise<string[]> => {
    const list = (await checker.client('LIST')) as string
    return list
      .split('\n')
      .map((line) => line.match(/ name=(\S*)/)?.[1] ?? '')
      .filter((name) => name.startsWith('micro-ts'))
      .sort()
  }

  test('one shared connection; a dedicated one per subscriber, consumer and queue group, as documented', async () => {
    const restore = withEnv({
      MICRO_REGISTRY: 'memory',
      MICRO_TRANSPORT: 'micro',
      ...Object.fromEntries(
        ['BROKER', 'EVENTS', 'STORE', 'SYNC'].flatMap((block) => [
          [`MICRO_${block}`, 'redis'],
          [`MICRO_${block}_ADDRESS`, redis.url],
        ]),
      ),
    })
    const { service, heard } = makeService('one-redis')
    try {
      await service.start()
      // The service's plain subscription ('engines.ping') has its subscriber connection; the
      // events consumer in useEveryBlock has stopped, and its reader is gone with it.
      await useEveryBlock(service, heard)
      const expected = ['micro-ts', 'micro-ts-broker-subscriber']
      assert.deepEqual(
        await until(ours, (names) => names.length === expected.length, '2 connections'),
        expected,
      )
      assert.equal(openRedisConnections(), 2)

      // A consumer running: its blocking reader.
      const consumer = service.events.consume('engines.more', { group: 'g' })
      await consumer.ready
      const withReader = [...expected, 'micro-ts-events-reader'].sort()
      assert.deepEqual(await until(ours, (names) => names.length === 3, '3 connections'), withReader)

      // A queue-group subscription: its BRPOP connection. A second plain subscription adds none.
      const group = await service.broker.subscribe('engines.work', () => {}, { queue: 'workers' })
      const plain = await service.broker.subscribe('engines.other', () => {})
      const withGroup = [...withReader, 'micro-ts-broker-group'].sort()
      assert.deepEqual(await until(ours, (names) => names.length === 4, '4 connections'), withGroup)
      assert.equal(openRedisConnections(), 4)

      consumer.stop()
      await group.unsubscribe()
      await plain.unsubscribe()
      assert.deepEqual(await until(ours, (names) => names.length === 2, 'back to 2'), expected)
    } finally {
      await service.stop()
      restore()
    }
    assert.deepEqual(await until(ours, (names) => names.length === 0, 'every connection closed at stop'), [])
    assert.equal(openRedisConnections(), 0)
  })
})
