import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { FileStore } from './file.js'
import { createStore, storeFromEnv } from './from-env.js'
import { MemoryStore } from './memory.js'
import { NatsStore } from './nats.js'
import { PostgresStore } from './postgres.js'
import { RedisStore } from './redis.js'

test('createStore picks the implementation by name; file is the default', async () => {
  const stores = [
    createStore(),
    createStore('memory'),
    createStore('redis', 'redis://127.0.0.1:1'),
    createStore('postgres', 'postgres://127.0.0.1:1/x'),
    createStore('PostgreSQL'),
    createStore('nats'),
  ]
  try {
    assert.ok(stores[0] instanceof FileStore)
    assert.ok(stores[1] instanceof MemoryStore)
    assert.ok(stores[2] instanceof RedisStore)
    assert.ok(stores[3] instanceof PostgresStore)
    assert.ok(stores[4] instanceof PostgresStore)
    assert.ok(stores[5] instanceof NatsStore)
  } finally {
    for (const store of stores) await store.close()
  }
})

test('an unknown store name is a TypeError naming the choices', () => {
  assert.throws(() => createStore('mongo'), {
    name: 'TypeError',
    message: 'unknown store engine "mongo"; known: file, memory, redis, postgres, nats, service',
  })
  assert.throws(() => storeFromEnv({ MICRO_STORE: 'mongo' }), {
    name: 'TypeError',
    message: 'MICRO_STORE=mongo: unknown store engine; known: file, memory, redis, postgres, nats, service',
  })
})

test('storeFromEnv reads MICRO_STORE and MICRO_STORE_ADDRESS (the file directory)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'micro-store-env-'))
  const store = storeFromEnv({ MICRO_STORE: 'file', MICRO_STORE_ADDRESS: directory })
  try {
    assert.ok(store instanceof FileStore)
    assert.equal(store.directory, directory)
    await store.write('k', 'v')
    assert.equal((await store.read('k')).value, 'v')
  } finally {
    await store.close()
    rmSync(directory, { recursive: true, force: true })
  }
  const memory = storeFromEnv({ MICRO_STORE: 'memory' })
  assert.equal(memory.name, 'memory')
  await memory.close()
})

test('an unreachable engine is a clear 503 and close() still works', async () => {
  const store = createStore('redis', 'redis://127.0.0.1:1')
  await assert.rejects(store.read('k'), (e: unknown) => {
    assert.equal((e as { code?: number }).code, 503)
    assert.match((e as Error).message, /^redis store: /)
    return true
  })
  await store.close()
})
