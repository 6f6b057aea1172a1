import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { spawnNode } from '../../test/support/process.js'
import { MicroError } from '../errors/errors.js'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { StoreNotFoundError } from './errors.js'
import { FileStore } from './file.js'
import { PostgresStore } from './postgres.js'
import { RedisStore } from './redis.js'
import type { Store } from './store.js'

const WRITES = 1500

function expected(writer: string, i: number) {
  return { writer, i, body: `${writer}:${i};`.repeat(40 + (i % 50)) }
}

describe('file store: two processes writing at once', () => {
  test('no write is lost or torn, and a reader meanwhile sees only whole values', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'micro-file-faults-'))
    const reader = new FileStore({ directory })
    try {
      const children = ['a', 'b'].map((writer) =>
        spawnNode([
          '--import',
          'tsx',
          'src/store/fixtures/file-writer.ts',
          directory,
          writer,
          String(WRITES),
        ]),
      )
      // Read the shared keys while both write: every value found must be whole.
      let reads = 0
      const exited = Promise.all(children.map((c) => c.exited))
      let writing = true
      void exited.then(() => {
        writing = false
      })
      while (writing) {
        for (let k = 0; k < 20; k++) {
          try {
            const { value } = await reader.read<{ writer: string; i: number }>(`shared/${k}`)
            assert.deepEqual(value, expected(value.writer, value.i))
            assert.equal(value.i % 20, k)
            reads++
          } catch (error) {
            if (!(error instanceof StoreNotFoundError)) throw error
          }
        }
        await new Promise((r) => setTimeout(r, 5))
      }
      for (const child of children) {
        assert.equal(await child.exited, 0, child.stderr())
        assert.match(child.stdout(), new RegExp(`done ${WRITES}`))
      }
      assert.ok(reads > 0, 'the reader saw values while the writers ran')
      for (const writer of ['a', 'b']) {
        const records = await reader.read<{ writer: string; i: number }>({ prefix: `w-${writer}/` })
        assert.equal(records.length, WRITES, `writes of ${writer} kept`)
        records.forEach((record, i) => {
          assert.deepEqual(record.value, expected(writer, i))
          assert.deepEqual(record.metadata, { writer, i })
        })
      }
      const shared = await reader.read<{ writer: string; i: number }>({ prefix: 'shared/' })
      assert.equal(shared.length, 20)
      for (const record of shared)
        assert.deepEqual(record.value, expected(record.value.writer, record.value.i))
    } finally {
      await reader.close()
      rmSync(directory, { recursive: true, force: true })
    }
  })
})

/** Cuts the store's connection mid-operation and checks the errors and the recovery. */
async function cutMidOperation(makeStore: (address: string) => Store, target: string, name: string) {
  const proxy = await TcpProxy.start(target)
  const store = makeStore(proxy.address)
  const namespace = `t-fault-${Date.now()}-${Math.random().toString(36).slice(2)}`
  try {
    await store.write('before', 1, { namespace })
    assert.equal((await store.read('before', { namespace })).value, 1)
    // A burst of writes and scans in flight when the server goes away.
    const burst = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 0 ? store.read({ namespace }) : store.write(`k${i}`, i, { namespace }),
    )
    const outcomes = Promise.allSettled(burst)
    setImmediate(() => {
      proxy.refuse()
      proxy.cut()
    })
    const settled = await outcomes
    assert.ok(
      settled.some((o) => o.status === 'rejected'),
      'nothing was in flight when the connection was cut',
    )
    for (const outcome of settled) {
      if (outcome.status === 'rejected') {
        const error = outcome.reason
        assert.ok(error instanceof MicroError, `not a MicroError: ${String(error)}`)
        assert.equal(error.code, 503)
        assert.match(error.detail, new RegExp(`^${name} store: `))
      }
    }
    const failedAt = Date.now()
    await assert.rejects(store.read('before', { namespace }), (e: unknown) => {
      assert.ok(e instanceof MicroError && e.code === 503, String(e))
      return true
    })
    assert.ok(Date.now() - failedAt < 15_000, 'the failure took too long to surface')
    proxy.resume()
    assert.equal((await store.read('before', { namespace })).value, 1, 'the next call after recovery works')
    const written = settled.flatMap((o, i) => (o.status === 'fulfilled' && i % 10 !== 0 ? [`k${i}`] : []))
    for (const key of written) assert.ok((await store.read(key, { namespace })).value !== undefined)
  } finally {
    proxy.resume()
    for (const key of await store.list({ namespace }).catch(() => [])) await store.delete(key, { namespace })
    // The proxy first: TcpProxy.cut() on a connection the client is closing can leave the
    // process unable to exit (resetAndDestroy on an ending socket).
    await proxy.close()
    await store.close()
  }
}

const redis = testServer('redis')
describe('redis store: connection cut mid-operation', { skip: redis.skip }, () => {
  test('a clear 503, then the next call works once the server is back', () =>
    cutMidOperation((address) => new RedisStore({ address }), new URL(redis.address as string).host, 'redis'))
})

const postgres = testServer('postgres')
describe('postgres store: connection cut mid-operation', { skip: postgres.skip }, () => {
  test('a clear 503, then the next call works once the server is back', async () => {
    const url = new URL(postgres.address as string)
    const schemaPrefix = `micro_fault_${randomUUID().slice(0, 8)}_`
    try {
      await cutMidOperation(
        (address) => {
          const through = new URL(url)
          through.host = address
          return new PostgresStore({ address: through.toString(), schemaPrefix })
        },
        url.host,
        'postgres',
      )
    } finally {
      const { Client, escapeIdentifier } = await import('pg')
      const client = new Client({ connectionString: postgres.address })
      await client.connect()
      const { rows } = await client.query<{ nspname: string }>(
        'SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)',
        [schemaPrefix],
      )
      for (const { nspname } of rows) await client.query(`DROP SCHEMA ${escapeIdentifier(nspname)} CASCADE`)
      await client.end()
    }
  })
})
