import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import type { ConfigKV } from './kv.js'

/**
 * The behaviour every {@link ConfigKV} must show (run it against the adapter of a real store
 * too). Each test uses a random namespace; `create` may return a shared instance.
 */
export function configKVConformance(
  name: string,
  create: () => Promise<ConfigKV> | ConfigKV,
  cleanup?: (kv: ConfigKV) => Promise<void> | void,
): void {
  const withKV = async (fn: (kv: ConfigKV, namespace: string) => Promise<void>) => {
    const kv = await create()
    try {
      await fn(kv, `t-${randomUUID()}`)
    } finally {
      await cleanup?.(kv)
    }
  }

  describe(`config kv conformance: ${name}`, () => {
    test('a missing key reads as undefined', () =>
      withKV(async (kv, namespace) => {
        assert.equal(await kv.read('missing', { namespace }), undefined)
      }))

    test('write then read returns the exact text; a second write replaces it', () =>
      withKV(async (kv, namespace) => {
        const text = JSON.stringify({ a: { b: 'é ☃ \u0000 "quoted"' }, n: 1 })
        await kv.write('config', text, { namespace })
        assert.equal(await kv.read('config', { namespace }), text)
        await kv.write('config', '{}', { namespace })
        assert.equal(await kv.read('config', { namespace }), '{}')
      }))

    test('delete removes the key; deleting a missing key is fine', () =>
      withKV(async (kv, namespace) => {
        await kv.write('config', '{"a":1}', { namespace })
        await kv.delete('config', { namespace })
        assert.equal(await kv.read('config', { namespace }), undefined)
        await kv.delete('config', { namespace })
      }))

    test('namespaces and keys are isolated', () =>
      withKV(async (kv, namespace) => {
        await kv.write('config', 'in-a', { namespace: `${namespace}-a` })
        await kv.write('config', 'in-b', { namespace: `${namespace}-b` })
        await kv.write('other', 'other-key', { namespace: `${namespace}-a` })
        assert.equal(await kv.read('config', { namespace: `${namespace}-a` }), 'in-a')
        assert.equal(await kv.read('config', { namespace: `${namespace}-b` }), 'in-b')
        assert.equal(await kv.read('config', { namespace: `${namespace}-c` }), undefined)
        await kv.delete('config', { namespace: `${namespace}-a` })
        assert.equal(await kv.read('config', { namespace: `${namespace}-b` }), 'in-b')
        assert.equal(await kv.read('other', { namespace: `${namespace}-a` }), 'other-key')
      }))

    test('a large document round-trips', () =>
      withKV(async (kv, namespace) => {
        const text = JSON.stringify({ blob: 'x'.repeat(256 * 1024) })
        await kv.write('config', text, { namespace })
        assert.equal(await kv.read('config', { namespace }), text)
      }))
  })
}
