import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { DEFAULT_LMDB_ROOT } from '../engines/lmdb.js'
import { MicroError } from '../errors/errors.js'
import { storeConformance } from './conformance.js'
import { LazyStore, lazyStoreFromEnv } from './lazy.js'
import { MemoryStore } from './memory.js'

storeConformance(
  'lazy (memory)',
  () => new LazyStore('memory', async () => new MemoryStore({ sweepInterval: 100 })),
)

describe('lazy store', () => {
  test('the engine is chosen now and loaded on the first call', async () => {
    let loads = 0
    const store = new LazyStore('memory', async () => {
      loads++
      return new MemoryStore()
    })
    assert.equal(store.name, 'memory')
    assert.equal(loads, 0)
    await store.write('k', 'v')
    assert.equal((await store.read('k')).value, 'v')
    assert.deepEqual(await store.read({ prefix: 'k' }).then((r) => r.map((x) => x.key)), ['k'])
    assert.equal(loads, 1)
    await store.close()
  })

  test('from env: an unknown engine is refused at once; the file store knows its directory unloaded', () => {
    assert.throws(() => lazyStoreFromEnv({ MICRO_STORE: 'mongo' }), /MICRO_STORE=mongo: unknown store engine/)
    assert.equal(lazyStoreFromEnv({}).directory, join(DEFAULT_LMDB_ROOT, 'store'))
    assert.equal(lazyStoreFromEnv({ MICRO_STORE_ADDRESS: ' /tmp/s ' }).directory, '/tmp/s')
    assert.equal(lazyStoreFromEnv({ MICRO_STORE: 'memory' }).directory, undefined)
    assert.equal(lazyStoreFromEnv({ MICRO_STORE: 'postgresql' }).name, 'postgres')
  })

  test('closed before use: nothing loads, and calls fail as a closed store does (503)', async () => {
    let loads = 0
    const store = new LazyStore('memory', async () => {
      loads++
      return new MemoryStore()
    })
    await store.close()
    assert.equal(loads, 0)
    await assert.rejects(store.write('k', 'v'), (e: unknown) => e instanceof MicroError && e.code === 503)
  })

  test("an engine's own error at load (a bad address) reaches the call, and the next call tries again", async () => {
    let attempts = 0
    const store = new LazyStore('memory', async () => {
      if (++attempts === 1) throw new TypeError('bad store address')
      return new MemoryStore()
    })
    await assert.rejects(store.list(), /bad store address/)
    assert.deepEqual(await store.list(), [])
    await store.close()
  })
})
