import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DEFAULT_SYNC_DIRECTORY, FileSync } from './file.js'
import { createSync, syncFromEnv } from './from-env.js'
import { MemorySync } from './memory.js'
import { NatsSync } from './nats.js'
import { PostgresSync } from './postgres.js'
import { RedisSync } from './redis.js'

test('createSync picks the implementation by name; file is the default', async () => {
  // Nothing here takes a lock: the file sync touches no disk until then.
  const syncs = [
    createSync(),
    createSync('memory'),
    createSync('redis', 'redis://127.0.0.1:1'),
    createSync('postgres'),
    createSync('NATS', 'nats://127.0.0.1:1'),
    createSync(' File ', '/tmp/elsewhere'),
  ]
  try {
    assert.ok(syncs[0] instanceof FileSync)
    assert.equal(syncs[0].directory, DEFAULT_SYNC_DIRECTORY)
    assert.ok(syncs[1] instanceof MemorySync)
    assert.ok(syncs[2] instanceof RedisSync)
    assert.ok(syncs[3] instanceof PostgresSync)
    assert.ok(syncs[4] instanceof NatsSync)
    assert.ok(syncs[5] instanceof FileSync)
    assert.equal(syncs[5].directory, '/tmp/elsewhere')
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

test('syncFromEnv reads MICRO_SYNC; unset is the file sync in ~/.micro/sync', async () => {
  const unset = syncFromEnv({})
  assert.ok(unset instanceof FileSync)
  assert.equal(unset.directory, DEFAULT_SYNC_DIRECTORY)
  await unset.close()
  const a = syncFromEnv({ MICRO_SYNC: 'memory' })
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

test('MICRO_SYNC_ADDRESS is the file sync directory; two file syncs on it contend', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'micro-sync-env-'))
  const a = syncFromEnv({ MICRO_SYNC_ADDRESS: directory })
  const b = syncFromEnv({ MICRO_SYNC: 'file', MICRO_SYNC_ADDRESS: directory })
  try {
    assert.equal(a.name, 'file')
    const held = await a.lock('from-env-test')
    await assert.rejects(b.lock('from-env-test', { wait: 0 }), { name: 'LockTimeoutError' })
    await held.unlock()
  } finally {
    await a.close()
    await b.close()
    rmSync(directory, { recursive: true, force: true })
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
