import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { syncConformance } from './conformance.js'
import { recordStatus, until } from './conformance-kit.js'
import { LazySync, lazySyncFromEnv } from './lazy.js'
import { MemoryLockTable, MemorySync } from './memory.js'

const table = new MemoryLockTable()

syncConformance('lazy (memory)', () => new LazySync('memory', async () => new MemorySync({ table })), {
  steal: async (namespace, id) => table.steal(MemorySync.keyOf(namespace, id)),
})

describe('lazy sync', () => {
  test('a candidate asked for before the engine loads campaigns, wins, and resigns', async () => {
    const own = new MemoryLockTable()
    const sync = new LazySync('memory', async () => new MemorySync({ table: own }))
    const leader = sync.leader('election', { namespace: 'lazy' })
    assert.equal(leader.id, 'election')
    assert.equal(leader.namespace, 'lazy')
    assert.equal(leader.isLeader, false)
    const status = recordStatus(leader.status)
    await until(() => status.seen.includes('gained'), 5000, 'the candidate wins')
    assert.equal(leader.isLeader, true)
    assert.equal(typeof leader.token, 'number')
    await leader.resign()
    await status.ended
    assert.equal(leader.isLeader, false)
    assert.deepEqual(status.seen, ['gained', 'lost'])
    await sync.close()
  })

  test('a refused candidacy (a bad id) ends status with the error and rejects resign', async () => {
    const sync = new LazySync('memory', async () => new MemorySync({ table: new MemoryLockTable() }))
    const leader = sync.leader('')
    await assert.rejects(async () => {
      for await (const _ of leader.status) assert.fail('no status expected')
    }, /lock id must be a non-empty string/)
    await assert.rejects(leader.resign(), /lock id must be a non-empty string/)
    await sync.close()
  })

  test('from env: an unknown engine is refused at once', () => {
    assert.throws(() => lazySyncFromEnv({ MICRO_SYNC: 'etcd' }), /MICRO_SYNC=etcd/)
    assert.equal(lazySyncFromEnv({ MICRO_SYNC: 'postgresql' }).name, 'postgres')
  })
})
