import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { PostgresStore } from '../store/postgres.js'
import { PostgresSync } from '../sync/postgres.js'
import { testServer } from '../testing/servers.js'
import { acquirePostgres, DEFAULT_POSTGRES_ADDRESS, openPostgresPools, postgresAddress } from './postgres.js'

const postgres = testServer('postgres')

test('postgresAddress: trimmed; host:port/db becomes a URL; nothing is the default address', () => {
  assert.equal(postgresAddress(' db:5433/app '), 'postgres://db:5433/app')
  assert.equal(postgresAddress('postgresql://u@h/x'), 'postgresql://u@h/x')
  assert.equal(postgresAddress(''), DEFAULT_POSTGRES_ADDRESS)
  assert.equal(postgresAddress(undefined), DEFAULT_POSTGRES_ADDRESS)
})

test('a link names its server without credentials', async () => {
  const link = await acquirePostgres({ address: 'postgres://me:secret@127.0.0.1:1/x', usedBy: 'test' })
  assert.equal(link.where, 'postgres://127.0.0.1:1/x')
  await link.release()
})

describe('the PostgreSQL engine module', { skip: postgres.skip }, () => {
  const address = postgres.address as string
  const id = randomUUID().replaceAll('-', '').slice(0, 12)
  const schemaPrefix = `micro_engines_${id}_`
  const syncSchema = `micro_engines_sync_${id}`

  after(async () => {
    const { Client } = await import('pg')
    const client = new Client({ connectionString: address })
    await client.connect()
    try {
      const { rows } = await client.query<{ name: string }>(
        'SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1',
        [`micro_engines_%${id}%`],
      )
      for (const { name } of rows) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    } finally {
      await client.end()
    }
  })

  test('two users of one address share one pool; the last release ends it', async () => {
    const before = openPostgresPools()
    const a = await acquirePostgres({ address, usedBy: 'test' })
    const b = await acquirePostgres({ address: ` ${address} `, usedBy: 'test' })
    assert.equal(a.pool, b.pool)
    assert.equal(openPostgresPools(), before + 1)
    await a.release()
    await a.release() // releasing one handle twice counts once
    const { rows } = await b.pool.query<{ one: number }>('SELECT 1 AS one')
    assert.equal(rows[0]?.one, 1, 'still open for the other user')
    await b.release()
    assert.equal(b.pool.ended, true)
    assert.equal(openPostgresPools(), before)
  })

  test('settings of its own give a user a pool nobody else shares', async () => {
    const shared = await acquirePostgres({ address, usedBy: 'test' })
    const own = await acquirePostgres({ address, config: { max: 2 }, usedBy: 'test' })
    assert.notEqual(shared.pool, own.pool)
    await own.release()
    assert.equal(own.pool.ended, true)
    assert.equal(shared.pool.ended, false)
    await shared.release()
  })

  test('the store and sync of one address use one pool; a held lock borrows one of its connections', async () => {
    const before = openPostgresPools()
    const store = new PostgresStore({ address, schemaPrefix })
    const sync = new PostgresSync({ address, schema: syncSchema })
    const probe = await acquirePostgres({ address, usedBy: 'test' })
    try {
      await store.write('k', { v: 1 })
      const lock = await sync.lock('engines-test')
      assert.equal(openPostgresPools(), before + 1, 'one pool for store, sync and the probe')
      // The lock's session is a connection lent out by the shared pool.
      assert.ok(probe.pool.totalCount - probe.pool.idleCount >= 1)
      assert.deepEqual((await store.read('k')).value, { v: 1 })
      await lock.unlock()
    } finally {
      await store.close()
      await sync.close()
      assert.equal(probe.pool.ended, false, 'closing the blocks leaves the pool to its last user')
      await probe.release()
    }
    assert.equal(openPostgresPools(), before)
  })
})
