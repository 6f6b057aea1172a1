import assert from 'node:assert/strict'
import { test } from 'node:test'
import { expectNotFound, type StoreSuite } from './conformance-kit.js'
import { DEFAULT_DATABASE, DEFAULT_TABLE, type Store } from './store.js'

const KEYS = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'b/3', 'c/1', 'ab/1']

async function seed(store: Store, namespace: string, keys = KEYS): Promise<void> {
  // Written out of order: the store must order them.
  for (const key of [...keys].reverse()) await store.write(key, { key }, { namespace })
}

/** Prefix, suffix, limit, offset and order; databases and tables; namespaces. */
export function queryConformance({ withStore }: StoreSuite): void {
  test('list and read by prefix and suffix, in key order', () =>
    withStore(async (store, namespace) => {
      await seed(store, namespace)
      assert.deepEqual(await store.list({ namespace }), [
        'a/1',
        'a/2',
        'a/3',
        'ab/1',
        'b/1',
        'b/2',
        'b/3',
        'c/1',
      ])
      assert.deepEqual(await store.list({ namespace, prefix: 'a/' }), ['a/1', 'a/2', 'a/3'])
      assert.deepEqual(await store.list({ namespace, prefix: 'a' }), ['a/1', 'a/2', 'a/3', 'ab/1'])
      assert.deepEqual(await store.list({ namespace, suffix: '/1' }), ['a/1', 'ab/1', 'b/1', 'c/1'])
      assert.deepEqual(await store.list({ namespace, prefix: 'b', suffix: '3' }), ['b/3'])
      assert.deepEqual(await store.list({ namespace, prefix: 'zz' }), [])
      assert.deepEqual(await store.list({ namespace, prefix: 'a/1' }), ['a/1'])
      const records = await store.read({ namespace, prefix: 'b/' })
      assert.deepEqual(
        records.map((r) => [r.key, r.value]),
        ['b/1', 'b/2', 'b/3'].map((k) => [k, { key: k }]),
      )
      assert.deepEqual(await store.read({ namespace, prefix: 'nothing' }), [])
      assert.deepEqual(await store.read({ namespace, table: 'empty' }), [])
    }))

  test('filters apply before offset and limit; limit 0 means no limit', () =>
    withStore(async (store, namespace) => {
      await seed(store, namespace)
      assert.deepEqual(await store.list({ namespace, prefix: 'b/', limit: 1, offset: 1 }), ['b/2'])
      assert.deepEqual(await store.list({ namespace, suffix: '/1', limit: 2, offset: 1 }), ['ab/1', 'b/1'])
      assert.deepEqual(await store.list({ namespace, prefix: 'b/', limit: 0 }), ['b/1', 'b/2', 'b/3'])
      assert.deepEqual(await store.list({ namespace, limit: 2 }), ['a/1', 'a/2'])
      assert.deepEqual(await store.list({ namespace, offset: 6 }), ['b/3', 'c/1'])
      assert.deepEqual(await store.list({ namespace, offset: 8 }), [])
      assert.deepEqual(await store.list({ namespace, prefix: 'c/', offset: 1 }), [])
      const read = await store.read({ namespace, prefix: 'a', suffix: '1', limit: 1, offset: 1 })
      assert.deepEqual(
        read.map((r) => r.key),
        ['ab/1'],
      )
    }))

  test('descending order, with filters, offset and limit', () =>
    withStore(async (store, namespace) => {
      await seed(store, namespace)
      assert.deepEqual(await store.list({ namespace, order: 'desc', limit: 3 }), ['c/1', 'b/3', 'b/2'])
      assert.deepEqual(await store.list({ namespace, prefix: 'a/', order: 'desc' }), ['a/3', 'a/2', 'a/1'])
      assert.deepEqual(await store.list({ namespace, suffix: '/1', order: 'desc', offset: 1, limit: 2 }), [
        'b/1',
        'ab/1',
      ])
      const read = await store.read({ namespace, prefix: 'b/', order: 'desc', limit: 2 })
      assert.deepEqual(
        read.map((r) => r.key),
        ['b/3', 'b/2'],
      )
    }))

  test('keys are ordered by code point, and any characters work', () =>
    withStore(async (store, namespace) => {
      // JavaScript's default sort puts the emoji (a surrogate pair) before U+FF5A.
      const keys = ['B', 'a', 'a b', 'a.b', 'a*', 'é', 'ｚ', '😀', 'x:y/z?&=%']
      for (const key of keys) await store.write(key, key, { namespace })
      assert.deepEqual(await store.list({ namespace }), [
        'B',
        'a',
        'a b',
        'a*',
        'a.b',
        'x:y/z?&=%',
        'é',
        'ｚ',
        '😀',
      ])
      assert.deepEqual(await store.list({ namespace, prefix: 'a' }), ['a', 'a b', 'a*', 'a.b'])
      assert.deepEqual(await store.list({ namespace, prefix: 'a*' }), ['a*'])
      for (const key of keys) assert.equal((await store.read(key, { namespace })).value, key)
    }))

  test('databases and tables list where records are; emptied tables drop out', () =>
    withStore(async (store, namespace) => {
      await store.write('k', 1, { namespace, database: 'shop', table: 'orders' })
      await store.write('k', 1, { namespace, database: 'shop', table: 'carts' })
      await store.write('k', 1, { namespace, database: 'auth', table: 'users' })
      await store.write('k', 1, { namespace })
      assert.deepEqual(await store.databases({ namespace }), ['auth', DEFAULT_DATABASE, 'shop'].sort())
      assert.deepEqual(await store.tables({ namespace, database: 'shop' }), ['carts', 'orders'])
      assert.deepEqual(await store.tables({ namespace }), [DEFAULT_TABLE])
      assert.deepEqual(await store.tables({ namespace, database: 'none' }), [])
      assert.deepEqual(await store.list({ namespace, database: 'shop', table: 'orders' }), ['k'])
      await store.delete('k', { namespace, database: 'shop', table: 'orders' })
      assert.deepEqual(await store.tables({ namespace, database: 'shop' }), ['carts'])
      await store.delete('k', { namespace, database: 'auth', table: 'users' })
      assert.deepEqual(await store.databases({ namespace }), [DEFAULT_DATABASE, 'shop'])
    }))

  test('namespaces are isolated', () =>
    withStore(async (store, namespace) => {
      const other = `${namespace}-other`
      try {
        await store.write('k', 'mine', { namespace })
        await store.write('k', 'theirs', { namespace: other, database: 'd2' })
        await store.write('only-theirs', 1, { namespace: other })
        assert.equal((await store.read('k', { namespace })).value, 'mine')
        assert.equal((await store.read('k', { namespace: other, database: 'd2' })).value, 'theirs')
        assert.deepEqual(await store.list({ namespace }), ['k'])
        await expectNotFound(store.read('only-theirs', { namespace }))
        assert.deepEqual(await store.databases({ namespace }), [DEFAULT_DATABASE])
        assert.deepEqual(await store.databases({ namespace: other }), [DEFAULT_DATABASE, 'd2'].sort())
        await store.delete('k', { namespace })
        assert.equal((await store.read('k', { namespace: other, database: 'd2' })).value, 'theirs')
      } finally {
        await store.delete('k', { namespace: other, database: 'd2' })
        await store.delete('only-theirs', { namespace: other })
      }
    }))

  test('calls without options use namespace, database and table micro', () =>
    withStore(async (store, namespace) => {
      const key = `default-${namespace}`
      await store.write(key, 'here')
      try {
        const scope = { namespace: 'micro', database: 'micro', table: 'micro' }
        assert.equal((await store.read(key, scope)).value, 'here')
        assert.ok((await store.list({ prefix: key })).includes(key))
        await expectNotFound(store.read(key, { namespace }))
      } finally {
        await store.delete(key)
      }
    }))
}
