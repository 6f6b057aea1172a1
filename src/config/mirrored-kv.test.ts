import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { FileStore } from '../store/file.js'
import { MemoryStore } from '../store/memory.js'
import { configKVConformance } from './conformance-kv.js'
import type { KVOptions } from './kv.js'
import { MemoryConfigKV } from './memory-kv.js'
import { MIRROR_FOLDER, mirroredKV } from './mirrored-kv.js'
import { loadServiceConfig } from './service-config.js'
import { ConfigDocument } from './store-document.js'
import { storeKV } from './store-kv.js'
import { until } from './test-files.js'

const folders: string[] = []
const stores: FileStore[] = []
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'micro-mirror-'))
  folders.push(dir)
  return dir
}
after(async () => {
  await Promise.all(stores.map((s) => s.close()))
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
})

/** A file store that counts the reads made through it. */
class CountingStore extends FileStore {
  reads = 0
  override read(...args: unknown[]): never {
    this.reads++
    return (super.read as (...a: unknown[]) => never)(...args)
  }
}

configKVConformance('mirrored (memory kv)', () => mirroredKV(new MemoryConfigKV(), folder()))
configKVConformance('store-backed (file store, mirrored)', () => {
  const store = new FileStore({ directory: folder(), durable: false })
  stores.push(store)
  return storeKV(store)
})

describe('mirrored config kv', () => {
  test('no version before the first write; a changed value gives a new one', async () => {
    const kv = mirroredKV(new MemoryConfigKV(), folder())
    const at = { namespace: 'team' }
    assert.equal(await kv.version?.('config', at), undefined)
    await kv.write('config', '{"a":1}', at)
    const first = await kv.version?.('config', at)
    assert.ok(first)
    await kv.write('config', '{"a":2}', at)
    const second = await kv.version?.('config', at)
    assert.notEqual(second, first)
    await kv.delete('config', at)
    assert.notEqual(await kv.version?.('config', at), second)
    assert.equal(await kv.read('config', at), undefined)
    assert.equal(await kv.version?.('config', { namespace: 'other' }), undefined)
    assert.equal(await kv.version?.('other', at), undefined)
  })

  test('hostile namespaces and keys stay inside the mirror folder and do not collide', async () => {
    const dir = folder()
    const kv = mirroredKV(new MemoryConfigKV(), dir)
    const names = ['..', '../../escape', 'a/b', 'a@b', 'a', 'b@c', '', '.']
    for (const [i, namespace] of names.entries()) await kv.write('config', `{"i":${i}}`, { namespace })
    // 'a@b' + key 'config' must not share a file with 'a' + key 'b@config'.
    await kv.write('b@config', '{}', { namespace: 'a' })
    assert.deepEqual(readdirSync(dir), [MIRROR_FOLDER])
    const files = readdirSync(join(dir, MIRROR_FOLDER))
    assert.equal(files.length, names.length + 1)
    assert.ok(files.every((name) => !name.includes('/') && !name.endsWith('.tmp')))
    for (const [i, namespace] of names.entries())
      assert.equal(await kv.read('config', { namespace }), `{"i":${i}}`)
    // Values can hold sealed secrets: only the owner reads the copies.
    assert.equal(statSync(join(dir, MIRROR_FOLDER, files[0] as string)).mode & 0o077, 0)
  })

  test('two writers at once: the copy ends at the value the store ends with', async () => {
    const inner = new MemoryConfigKV()
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    // The first writer stores its value, then stalls before writing its copy...
    const slow = {
      read: (key: string, o: KVOptions) => inner.read(key, o),
      delete: (key: string, o: KVOptions) => inner.delete(key, o),
      write: async (key: string, value: string, o: KVOptions) => {
        await inner.write(key, value, o)
        await gate
      },
    }
    const dir = folder()
    const first = mirroredKV(slow, dir)
    const second = mirroredKV(inner, dir)
    const at = { namespace: 'race' }
    const writing = first.write('config', '"old"', at)
    // ...while the second stores and copies a newer one; then the first writes its copy.
    await second.write('config', '"new"', at)
    release()
    await writing
    assert.equal(await inner.read('config', at), '"new"')
    assert.equal(await first.read('config', at), '"new"', 'the copy fell behind the store')
  })

  test('only the file store is mirrored: other stores have no version', async () => {
    assert.equal(storeKV(new MemoryStore()).version, undefined)
    const store = new FileStore({ directory: folder(), durable: false })
    stores.push(store)
    assert.equal(typeof storeKV(store).version, 'function')
  })

  test('a service config on the file store never reads the store; a later set still reaches its watch', async () => {
    const directory = folder()
    const store = new CountingStore({ directory, durable: false })
    stores.push(store)
    const config = await loadServiceConfig({
      name: 'shop',
      env: {},
      argv: [],
      store: storeKV(store),
      namespace: 'mirrored',
      storePollInterval: 20,
    })
    const alive = setInterval(() => {}, 1000)
    try {
      assert.equal(config.get('feature.on').exists, false)
      const changes = config.watch('feature.on')
      // Another writer (as `micro config set` is: its own store object on the same directory).
      const writer = new FileStore({ directory, durable: false })
      stores.push(writer)
      await new ConfigDocument(storeKV(writer), { namespace: 'mirrored' }).set('feature.on', true)
      const next = await changes.next()
      assert.equal(next.value?.bool(), true)
      await new ConfigDocument(storeKV(writer), { namespace: 'mirrored' }).set('feature.on', false)
      await until(() => config.get('feature.on').bool() === false, 'the second change')
      assert.equal(store.reads, 0, 'the service read the store (and so loaded LMDB)')
    } finally {
      clearInterval(alive)
      await config.close()
    }
  })

  test('a poll that fails to read is retried, not skipped as seen', async () => {
    const inner = new MemoryConfigKV()
    const dir = folder()
    const writer = mirroredKV(inner, dir)
    let fail = false
    const reader = mirroredKV(inner, dir)
    const flaky = {
      read: async (key: string, options: KVOptions) => {
        if (fail) throw new Error('store down')
        return reader.read(key, options)
      },
      write: reader.write,
      delete: reader.delete,
      version: reader.version,
    }
    const config = await loadServiceConfig({
      name: 'shop',
      env: {},
      argv: [],
      store: flaky,
      namespace: 'flaky',
      storePollInterval: 10,
      logger: undefined,
    })
    const alive = setInterval(() => {}, 1000)
    try {
      fail = true
      await writer.write('config', '{"x":1}', { namespace: 'flaky' })
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
