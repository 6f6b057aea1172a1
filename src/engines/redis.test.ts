import assert from 'node:assert/strict'
import { once } from 'node:events'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { acquireRedis, DEFAULT_REDIS_ADDRESS, openRedisConnections, redisAddress } from './redis.js'

const redis = testServer('redis')

/** Resolves once the client has closed for good. */
async function ended(client: Redis): Promise<void> {
  if (client.status !== 'end') await once(client, 'end')
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

test('redisAddress: trimmed; host:port becomes a URL; nothing is the default address', () => {
  assert.equal(redisAddress(' 10.0.0.1:6380 '), 'redis://10.0.0.1:6380')
  assert.equal(redisAddress('rediss://h:1/2'), 'rediss://h:1/2')
  assert.equal(redisAddress('  '), DEFAULT_REDIS_ADDRESS)
  assert.equal(redisAddress(undefined), DEFAULT_REDIS_ADDRESS)
})

test('an unreachable server: ready() rejects, a command fails naming it without credentials', async () => {
  const before = openRedisConnections()
  const link = await acquireRedis({ address: 'redis://:secret@127.0.0.1:1', usedBy: 'test' })
  assert.equal(link.where, '127.0.0.1:1')
  await assert.rejects(link.ready(), /ECONNREFUSED/)
  await assert.rejects(
    link.run((c) => c.ping()),
    (error: Error) =>
      /^cannot reach redis at 127\.0\.0\.1:1/.test(error.message) && !/secret/.test(error.message),
  )
  // Waiting gives up after the time it is given.
  await assert.rejects(
    link.runPatiently((c) => c.ping(), 200),
    /^Error: cannot reach redis at 127\.0\.0\.1:1/,
  )
  await link.release()
  assert.equal(openRedisConnections(), before)
})

describe('the Redis engine module', { skip: redis.skip }, () => {
  const address = redis.address as string

  test('two users of one address share one client; the last release closes it', async () => {
    const before = openRedisConnections()
    const a = await acquireRedis({ address, usedBy: 'test' })
    const b = await acquireRedis({ address: ` ${address} `, usedBy: 'test' })
    assert.equal(a.client, b.client)
    assert.equal(openRedisConnections(), before + 1)
    assert.equal(await a.run((c) => c.ping()), 'PONG')
    await a.release()
    await a.release() // releasing one handle twice counts once
    assert.equal(await b.run((c) => c.ping()), 'PONG', 'still open for the other user')
    await b.release()
    await ended(b.client)
    assert.equal(openRedisConnections(), before)
    const c = await acquireRedis({ address, usedBy: 'test' })
    assert.notEqual(c.client, a.client, 'the next user gets a new client')
    await c.release()
  })

  test('a client the caller gives is used as it is and never closed', async () => {
    const { Redis } = await import('ioredis')
    const given = new Redis(address)
    try {
      const before = openRedisConnections()
      const link = await acquireRedis({ client: given, address: 'redis://127.0.0.1:1', usedBy: 'test' })
      assert.equal(link.client, given)
      assert.equal(await link.run((c) => c.ping()), 'PONG')
      assert.equal(openRedisConnections(), before, 'not counted as ours')
      await link.release()
      assert.equal(await given.ping(), 'PONG', 'still open')
    } finally {
      given.disconnect()
    }
  })

  test('options of its own give a user a client nobody else shares', async () => {
    const shared = await acquireRedis({ address, usedBy: 'test' })
    const own = await acquireRedis({ address, options: { connectionName: 'own-options' }, usedBy: 'test' })
    assert.notEqual(shared.client, own.client)
    await own.release()
    await ended(own.client)
    assert.equal(await shared.run((c) => c.ping()), 'PONG')
    await shared.release()
  })

  test('dedicated connections are counted, named by role, and closed by drop or release', async () => {
    const before = openRedisConnections()
    const link = await acquireRedis({ address, usedBy: 'test' })
    const reader = link.dedicated('test-reader')
    const other = link.dedicated('test-other')
    assert.equal(openRedisConnections(), before + 3)
    assert.equal(await reader.client('GETNAME'), 'micro-ts-test-reader')
    assert.equal(await link.client.client('GETNAME'), 'micro-ts')
    link.drop(other)
    assert.equal(openRedisConnections(), before + 2)
    await link.release()
    await Promise.all([ended(reader), ended(other), ended(link.client)])
    assert.equal(openRedisConnections(), before)
  })

  test('runPatiently waits out an outage; run fails fast while Redis is away', async () => {
    const proxy = await TcpProxy.start(new URL(address).host)
    const link = await acquireRedis({ address: `redis://${proxy.address}`, usedBy: 'test' })
    try {
      await link.ready()
      proxy.refuse()
      proxy.cut()
      await until(() => link.client.status !== 'ready', 'the client to notice the cut')
      await assert.rejects(
        link.run((c) => c.ping()),
        /cannot reach redis|connection to redis/,
      )
      const patient = link.runPatiently((c) => c.ping(), 20_000)
      await sleep(300)
      proxy.resume()
      assert.equal(await patient, 'PONG')
    } finally {
      proxy.resume()
      await link.release()
      await sleep(300) // let the QUIT finish before the proxy resets its sockets
      await proxy.close()
    }
  })
})
