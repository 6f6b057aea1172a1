import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { generateSecretKey, isSealed, parseSecretKey } from './cipher.js'
import { sourceConformance } from './conformance.js'
import { MemoryConfigKV } from './memory-kv.js'
import { secret } from './secret.js'
import { ConfigDocument } from './store-document.js'
import { storeSource } from './store-source.js'

sourceConformance(
  'store (memory kv, polled)',
  async () => {
    const kv = new MemoryConfigKV()
    const namespace = `ns-${Math.random()}`
    const document = new ConfigDocument(kv, { namespace })
    await document.set('db', { url: 'postgres://a', pool: 5 })
    return {
      source: storeSource(kv, { namespace, pollInterval: 20 }),
      expected: { db: { url: 'postgres://a', pool: 5 } },
      change: () => document.set('db.url', 'postgres://b'),
      changed: { db: { url: 'postgres://b', pool: 5 } },
    }
  },
  { changeTimeout: 5000 },
)

describe('store source and config document', () => {
  test('an unset document is an empty config; namespaces and keys are separate documents', async () => {
    const kv = new MemoryConfigKV()
    await new ConfigDocument(kv, { namespace: 'a' }).set('x', 1)
    await new ConfigDocument(kv, { namespace: 'a', key: 'other' }).set('x', 2)
    assert.deepEqual(await storeSource(kv, { namespace: 'b' }).read(), {})
    assert.deepEqual(await storeSource(kv, { namespace: 'a' }).read(), { x: 1 })
    assert.deepEqual(await storeSource(kv, { namespace: 'a', key: 'other' }).read(), { x: 2 })
    assert.equal(storeSource(kv).name, 'store:micro/config')
  })

  test('a document that is not a JSON object is a 400 naming it, never overwritten by set', async () => {
    const kv = new MemoryConfigKV()
    await kv.write('config', '{broken', { namespace: 'micro' })
    await assert.rejects(
      async () => storeSource(kv).read(),
      (e: unknown) => e instanceof MicroError && e.code === 400 && e.detail.includes('store:micro/config'),
    )
    const document = new ConfigDocument(kv)
    await assert.rejects(document.set('a', 1), /not valid JSON/)
    assert.equal(await kv.read('config', { namespace: 'micro' }), '{broken')
    await kv.write('config', '[1]', { namespace: 'micro' })
    await assert.rejects(async () => storeSource(kv).read(), /not a JSON object/)
  })

  test('concurrent sets through one document are not lost', async () => {
    const document = new ConfigDocument(new MemoryConfigKV())
    await Promise.all(Array.from({ length: 20 }, (_, i) => document.set(`k.n${i}`, i)))
    assert.equal(Object.keys((await document.read()).k as object).length, 20)
  })

  test('delete removes a path and says whether it existed; the root can be cleared', async () => {
    const document = new ConfigDocument(new MemoryConfigKV())
    await document.set('a.b', 1)
    await document.set('a.c', 2)
    assert.equal(await document.delete('a.b'), true)
    assert.equal(await document.delete('a.b'), false)
    assert.deepEqual(await document.read(), { a: { c: 2 } })
    assert.equal(await document.delete(''), true)
    assert.deepEqual(await document.read(), {})
  })

  test('secrets are stored encrypted, and only with a key', async () => {
    const kv = new MemoryConfigKV()
    const key = parseSecretKey(generateSecretKey())
    await new ConfigDocument(kv, { secretKey: () => key }).set('db.password', secret('hunter2'))
    const raw = (await kv.read('config', { namespace: 'micro' })) as string
    assert.ok(!raw.includes('hunter2'))
    const stored = (await new ConfigDocument(kv).get('db.password')) as string
    assert.ok(isSealed(stored))
    await assert.rejects(new ConfigDocument(kv).set('x', secret('y')), /needs a secretKey/)
  })

  test('a failing store is reported by the poll, which carries on', async () => {
    let fail = true
    const kv = new MemoryConfigKV()
    const flaky = {
      read: async (key: string, options: { namespace: string }) => {
        if (fail) throw new Error('store down')
        return kv.read(key, options)
      },
      write: kv.write.bind(kv),
      delete: kv.delete.bind(kv),
    }
    const errors: unknown[] = []
    let changes = 0
    const unwatch = storeSource(flaky, { pollInterval: 10 }).watch?.(
      () => changes++,
      (e) => errors.push(e),
    )
    const deadline = Date.now() + 5000
    while (errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.ok(errors.length > 0)
    fail = false
    await kv.write('config', '{"a":1}', { namespace: 'micro' })
    while (changes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    assert.ok(changes > 0)
    unwatch?.()
  })
})
