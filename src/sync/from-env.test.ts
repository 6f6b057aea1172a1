import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createSync, syncFromEnv } from './from-env.js'
import { MemorySync } from './memory.js'
import { NatsSync } from './nats.js'
import { PostgresSync } from './postgres.js'
import { RedisSync } from './redis.js'

test('createSync picks the implementation by name; memory is the default', async () => {
  const syncs = [
    createSync(),
    createSync('redis', 'redis://127.0.0.1:1'),
    createSync('postgres'),
    createSync('NATS', 'nats://127.0.0.1:1'),
  ]
  try {
    assert.ok(syncs[0] instanceof MemorySync)
    assert.ok(syncs[1] instanceof RedisSync)
    assert.ok(syncs[2] instanceof PostgresSync)
    assert.ok(syncs[3] instanceof NatsSync)
  } finally {
    for (const sync of syncs) await sync.close()
  }
})

test('an unknown sync name is a TypeError naming the known engines', () => {
  assert.throws(() => createSync('etcd'), {
    name: 'TypeError',
    message: 'unknown sync engine "etcd"; known: file, memory, redis, postgres, nats',
  })
  assert.throws(() => syncFromEnv({ MICRO_SYNC: 'etcd' }), {
    name: 'TypeError',
    message: 'MICRO_SYNC=etcd: unknown sync engine; known: file, memory, redis, postgres, nats',
  })
})

test('syncFromEnv reads MICRO_SYNC; memory syncs of one process contend', async () => {
  const a = syncFromEnv({})
  const b = syncFromEnv({ MICRO_SYNC: 'memory' })
  try {
    const held = await a.lock('from-env-test')
    await assert.rejects(b.lock('from-env-test', { wait: 0 }), { name: 'LockTimeoutError' })
    await held.unlock()
  } finally {
    await a.close()
    await b.close()
  }
})

test('an unreachable engine is a clear 503 naming the sync', async () => {
  const sync = createSync('redis', 'redis://127.0.0.1:1')
  await assert.rejects(sync.lock('k'), (e: unknown) => {
    assert.equal((e as { code?: number }).code, 503)
    assert.match((e as Error).message, /^redis sync: /)
    return true
  })
  await sync.close()
})
