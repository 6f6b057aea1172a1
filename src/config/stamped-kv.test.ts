import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { openLmdbEnvironments } from '../engines/lmdb.js'
import { FileStore } from '../store/file.js'
import { MemoryStore } from '../store/memory.js'
import { configKVConformance } from './conformance-kv.js'
import { MemoryConfigKV } from './memory-kv.js'
import { loadServiceConfig } from './service-config.js'
import { STAMP_FOLDER, stampedKV } from './stamped-kv.js'
import { ConfigDocument } from './store-document.js'
import { storeKV } from './store-kv.js'
import { until } from './test-files.js'

const folders: string[] = []
const stores: FileStore[] = []
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'micro-stamps-'))
  folders.push(dir)
  return dir
}
after(async () => {
  await Promise.all(stores.map((s) => s.close()))
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
})

configKVConformance('stamped (memory kv)', () => stampedKV(new MemoryConfigKV(), folder()))
configKVConformance('store-backed (file store, stamped)', () => {
  const store = new FileStore({ directory: folder(), durable: false })
  stores.push(store)
  return storeKV(store)
})

describe('stamped config kv', () => {
  test('no version before the first write; each write and delete gives a new one', async () => {
    const kv = stampedKV(new MemoryConfigKV(), folder())
    const at = { namespace: 'team' }
    assert.equal(await kv.version?.('config', at), undefined)
    await kv.write('config', '{"a":1}', at)
    const first = await kv.version?.('config', at)
    assert.ok(first)
    // Same text again: still a new token (two writes in one clock tick must not look like one).
    await kv.write('config', '{"a":1}', at)
    const second = await kv.version?.('config', at)
    assert.notEqual(second, first)
    await kv.delete('config', at)
    assert.notEqual(await kv.version?.('config', at), second)
    assert.equal(await kv.version?.('config', { namespace: 'other' }), undefined)
    assert.equal(await kv.version?.('other', at), undefined)
  })

  test('hostile namespaces and keys stay inside the stamp folder and do not collide', async () => {
    const dir = folder()
    const kv = stampedKV(new MemoryConfigKV(), dir)
    const names = ['..', '../../escape', 'a/b', 'a@b', 'a', 'b@c', '', '.']
    for (const [i, namespace] of names.entries()) await kv.write('config', `{"i":${i}}`, { namespace })
    // 'a@b' + key 'config' must not share a stamp with 'a' + key 'b@config'.
    await kv.write('b@config', '{}', { namespace: 'a' })
    assert.deepEqual(readdirSync(dir), [STAMP_FOLDER])
    const stamps = readdirSync(join(dir, STAMP_FOLDER))
    assert.equal(stamps.length, names.length + 1)
    assert.ok(stamps.every((name) => !name.includes('/') && !name.endsWith('.tmp')))
  })

  test('only the file store is stamped: other stores have no version', async () => {
    assert.equal(storeKV(new MemoryStore()).version, undefined)
    const store = new FileStore({ directory: folder(), durable: false })
    stores.push(store)
    assert.equal(typeof storeKV(store).version, 'function')
  })

  test('a service config on an unwritten file store never opens LMDB; a later set still reaches its watch', async () => {
    const directory = folder()
    const store = new FileStore({ directory, durable: false })
    stores.push(store)
    const before = openLmdbEnvironments()
    const config = await loadServiceConfig({
      name: 'shop',
      env: {},
      argv: [],
      store: storeKV(store),
      namespace: 'stamped',
      storePollInterval: 20,
    })
    const alive = setInterval(() => {}, 1000)
    try {
      assert.equal(config.get('feature.on').exists, false)
      // Several polls pass without a document: still no database opened by this store.
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(openLmdbEnvironments(), before)
      const changes = config.watch('feature.on')
      // Another writer (as `micro config set` is: its own store object on the same directory).
      const writer = new FileStore({ directory, durable: false })
      stores.push(writer)
      await new ConfigDocument(storeKV(writer), { namespace: 'stamped' }).set('feature.on', true)
      const next = await changes.next()
      assert.equal(next.value?.bool(), true)
      await new ConfigDocument(storeKV(writer), { namespace: 'stamped' }).set('feature.on', false)
      await until(() => config.get('feature.on').bool() === false, 'the second change')
    } finally {
      clearInterval(alive)
      await config.close()
    }
  })

  test('a poll that fails to read is retried, not skipped as seen', async () => {
    const inner = new MemoryConfigKV()
    let fail = false
    const flaky = {
      read: async (key: string, options: { namespace: string }) => {
        if (fail) throw new Error('store down')
        return inner.read(key, options)
      },
      write: inner.write.bind(inner),
      delete: inner.delete.bind(inner),
    }
    const kv = stampedKV(flaky, folder())
    const config = await loadServiceConfig({
      name: 'shop',
      env: {},
      argv: [],
      store: kv,
      namespace: 'flaky',
      storePollInterval: 10,
    })
    const alive = setInterval(() => {}, 1000)
    try {
      fail = true
      await kv.write('config', '{"x":1}', { namespace: 'flaky' })
      await new Promise((resolve) => setTimeout(resolve, 60))
      fail = false
      await until(() => config.get('x').exists, 'the change after the store came back')
      assert.equal(config.get('x').int(), 1)
    } finally {
      clearInterval(alive)
      await config.close()
    }
  })
})
