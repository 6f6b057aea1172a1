import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  eventually,
  expectCode,
  expectNotFound,
  isGone,
  type StoreConformanceOptions,
  type StoreSuite,
  storeSuite,
} from './conformance-kit.js'
import { queryConformance } from './conformance-query.js'
import type { Store } from './store.js'

export type { StoreConformanceOptions } from './conformance-kit.js'

/**
 * The behaviour every Store implementation must show, as node:test tests. Call it from a
 * `*.test.ts` file with a factory; each test gets a new store and a random namespace, and
 * removes what it wrote.
 */
export function storeConformance(
  name: string,
  create: () => Promise<Store> | Store,
  options: StoreConformanceOptions = {},
): void {
  const suite = storeSuite(create, options)
  describe(`store conformance: ${name}`, () => {
    recordConformance(suite)
    expiryConformance(suite)
    queryConformance(suite)
    lifecycleConformance(suite)
  })
}

function recordConformance({ withStore }: StoreSuite): void {
  test('write then read returns the value and metadata, with no expiry', () =>
    withStore(async (store, namespace) => {
      await store.write(
        'user:1',
        { name: 'Alice', tags: ['a', 'b'], n: 1.5 },
        {
          namespace,
          metadata: { owner: 'x', n: 2 },
        },
      )
      assert.deepEqual(await store.read('user:1', { namespace }), {
        key: 'user:1',
        value: { name: 'Alice', tags: ['a', 'b'], n: 1.5 },
        metadata: { owner: 'x', n: 2 },
      })
    }))

  test('JSON values of every kind and bytes round-trip', () =>
    withStore(async (store, namespace) => {
      const values: unknown[] = ['text ✓ 😀', 42, -0.5, true, false, null, [], {}, [1, 'two', { three: 3 }]]
      for (const [i, value] of values.entries()) await store.write(`v${i}`, value, { namespace })
      for (const [i, value] of values.entries())
        assert.deepEqual((await store.read(`v${i}`, { namespace })).value, value)
      const bytes = Buffer.from([0, 1, 2, 0x6a, 0x7b, 255, 0])
      await store.write('bytes', new Uint8Array(bytes), { namespace })
      const back = (await store.read<Uint8Array>('bytes', { namespace })).value
      assert.ok(Buffer.isBuffer(back), 'bytes come back as a Buffer')
      assert.ok(back.equals(bytes))
      await store.write('empty-bytes', Buffer.alloc(0), { namespace })
      assert.equal((await store.read<Buffer>('empty-bytes', { namespace })).value.length, 0)
    }))

  test('overwriting replaces the value and the metadata', () =>
    withStore(async (store, namespace) => {
      await store.write('k', 'one', { namespace, metadata: { v: 1 } })
      await store.write('k', 'two', { namespace })
      assert.deepEqual(await store.read('k', { namespace }), { key: 'k', value: 'two', metadata: {} })
    }))

  test('a missing key rejects with StoreNotFoundError (404)', () =>
    withStore(async (store, namespace) => {
      await expectNotFound(store.read('missing', { namespace }))
      await store.write('other', 1, { namespace })
      await expectNotFound(store.read('missing', { namespace }))
      await expectNotFound(store.read('other', { namespace, table: 'elsewhere' }))
    }))

  test('delete removes a record; deleting a missing key is not an error', () =>
    withStore(async (store, namespace) => {
      await store.write('k', 1, { namespace })
      await store.delete('k', { namespace })
      await expectNotFound(store.read('k', { namespace }))
      await store.delete('k', { namespace })
      await store.delete('never', { namespace, database: 'nothing-here' })
      assert.deepEqual(await store.list({ namespace }), [])
    }))

  test('bad input is a 400 and the store keeps working', () =>
    withStore(async (store, namespace) => {
      await expectCode(store.write('', 1, { namespace }), 400, /key/)
      await expectCode(store.write('k', undefined, { namespace }), 400)
      await expectCode(
        store.write('k', () => 1, { namespace }),
        400,
      )
      await expectCode(store.write('k', { big: 10n }, { namespace }), 400)
      await expectCode(store.write('k', 1, { namespace, ttl: -5 }), 400, /ttl/)
      await expectCode(store.write('k', 1, { namespace, metadata: [] as never }), 400, /metadata/)
      await expectCode(store.read('', { namespace }), 400)
      await expectCode(store.read({ namespace, limit: -1 }), 400, /limit/)
      await expectCode(store.list({ namespace, offset: 1.5 }), 400, /offset/)
      await expectCode(store.list({ namespace, order: 'up' as never }), 400, /order/)
      await expectCode(store.list({ namespace, database: '' }), 400, /database/)
      await expectCode(store.read('a\0b', { namespace }), 400, /NUL/)
      await store.write('k', 'fine', { namespace })
      assert.equal((await store.read('k', { namespace })).value, 'fine')
    }))

  test('concurrent writes all land', () =>
    withStore(async (store, namespace) => {
      const keys = Array.from({ length: 100 }, (_, i) => `c/${String(i).padStart(3, '0')}`)
      await Promise.all(keys.map((key, i) => store.write(key, { i }, { namespace })))
      assert.deepEqual(await store.list({ namespace }), keys)
      const records = await store.read({ namespace, prefix: 'c/' })
      assert.deepEqual(
        records.map((r) => r.value),
        keys.map((_, i) => ({ i })),
      )
    }))
}

function expiryConformance({ withStore }: StoreSuite): void {
  test('a record with a TTL reports the time left and vanishes after it', () =>
    withStore(async (store, namespace) => {
      const ttl = 1000
      // The table first: creating it (a bucket, a schema) under load must not eat the TTL.
      await store.write('long', 'stays', { namespace })
      const written = Date.now()
      await store.write('short', 'soon gone', { namespace, ttl, metadata: { m: 1 } })
      const record = await store.read('short', { namespace })
      assert.equal(record.value, 'soon gone')
      assert.deepEqual(record.metadata, { m: 1 })
      assert.ok(
        record.expiry !== undefined && record.expiry > 0 && record.expiry <= ttl,
        `expiry ${record.expiry}`,
      )
      const listed = await store.read({ namespace, prefix: 's' })
      assert.ok(listed[0]?.expiry !== undefined && listed[0].expiry <= ttl)
      await eventually(() => isGone(store, 'short', { namespace }), ttl + 5000, 'the record expires')
      assert.ok(Date.now() - written >= ttl - 20, `vanished after ${Date.now() - written} ms, before its TTL`)
      assert.deepEqual(await store.list({ namespace }), ['long'])
      assert.deepEqual(
        (await store.read({ namespace })).map((r) => r.key),
        ['long'],
      )
    }))

  test('an absolute expiry works, and ttl wins over expiry', () =>
    withStore(async (store, namespace) => {
      const at = Date.now() + 5000
      await store.write('at', 1, { namespace, expiry: new Date(at) })
      await store.write('at-ms', 1, { namespace, expiry: at })
      await store.write('both', 1, { namespace, expiry: Date.now() + 60_000, ttl: 1500 })
      for (const key of ['at', 'at-ms']) {
        const { expiry } = await store.read(key, { namespace })
        assert.ok(expiry !== undefined && expiry > 3000 && expiry <= 5000, `${key} expiry ${expiry}`)
      }
      const both = await store.read('both', { namespace })
      assert.ok(both.expiry !== undefined && both.expiry <= 1500, `ttl should win, got ${both.expiry}`)
      await eventually(() => isGone(store, 'both', { namespace }), 5000, 'the ttl record expires')
      assert.equal((await store.read('at', { namespace })).value, 1)
    }))

  test('an expiry in the past removes the record; rewriting without TTL makes it permanent', () =>
    withStore(async (store, namespace) => {
      await store.write('k', 'old', { namespace })
      await store.write('k', 'new', { namespace, expiry: Date.now() - 1000 })
      await expectNotFound(store.read('k', { namespace }))
      await store.write('t', 1, { namespace, ttl: 300 })
      await store.write('t', 2, { namespace })
      await sleep(450)
      assert.deepEqual(await store.read('t', { namespace }), { key: 't', value: 2, metadata: {} })
    }))

  test('expired records leave the table and database listings', () =>
    withStore(async (store, namespace) => {
      await store.write('k', 1, { namespace, database: 'kept', table: 'main' })
      await store.write('k', 1, { namespace, database: 'brief', table: 'tmp', ttl: 1500 })
      assert.deepEqual(await store.databases({ namespace }), ['brief', 'kept'])
      await eventually(
        async () => (await store.databases({ namespace })).length === 1,
        5000,
        'the expired database is no longer listed',
      )
      assert.deepEqual(await store.databases({ namespace }), ['kept'])
      assert.deepEqual(await store.tables({ namespace, database: 'brief' }), [])
    }))
}

function lifecycleConformance({ withStore, create, options }: StoreSuite): void {
  test('after close() calls reject with a 503; close() twice is fine', async () => {
    const store = await create()
    await store.close()
    await expectCode(store.read('k'), 503, /closed/)
    await expectCode(store.write('k', 1), 503, /closed/)
    await expectCode(store.list(), 503, /closed/)
    await store.close()
  })

  test('records survive close() and a new store on the same engine', { skip: !options.persistent }, () =>
    withStore(async (first, namespace) => {
      const key = `persist-${randomUUID()}`
      await first.write(key, { kept: true }, { namespace, database: 'p', metadata: { m: 'x' } })
      await first.close()
      const again = await create()
      try {
        assert.deepEqual(await again.read(key, { namespace, database: 'p' }), {
          key,
          value: { kept: true },
          metadata: { m: 'x' },
        })
        await again.delete(key, { namespace, database: 'p' })
      } finally {
        await again.close()
      }
    }),
  )
}
