import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { configCommand } from '../../cli/commands/config.js'
import { isSealed } from '../../config/cipher.js'
import { storeKV } from '../../config/store-kv.js'
import { MicroError } from '../../errors/errors.js'
import { ServiceStore } from '../../store/service.js'
import type { PlatformService } from './platform.js'
import { startTestPlatform, TEST_SECRET_KEY } from './test-platform.js'

describe('Config service', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  const call = <T>(endpoint: string, request: unknown) =>
    platform.service.client.call<T>('platform', endpoint, request, { address: platform.address })
  const ns = () => `cfg-${randomUUID().slice(0, 8)}`
  const code = (expected: number, detail?: RegExp) => (e: unknown) =>
    e instanceof MicroError && e.code === expected && (detail === undefined || detail.test(e.detail))

  test('set, get, read and delete by dotted path, per namespace', async () => {
    const namespace = ns()
    await call('Config.Set', { namespace, path: 'db.url', value: 'postgres://db/shop' })
    await call('Config.Set', { namespace, path: 'features', value: { checkout: true, n: [1, 2] } })
    assert.deepEqual(await call('Config.Get', { namespace, path: 'db' }), {
      value: { url: 'postgres://db/shop' },
    })
    assert.deepEqual(await call('Config.Read', { namespace }), {
      value: { db: { url: 'postgres://db/shop' }, features: { checkout: true, n: [1, 2] } },
    })
    assert.deepEqual(
      await call('Config.Read', { namespace: ns() }),
      { value: {} },
      'another namespace is empty',
    )
    await assert.rejects(call('Config.Get', { namespace: ns(), path: 'db' }), code(404))
    assert.deepEqual(await call('Config.Delete', { namespace, path: 'db.url' }), { deleted: true })
    assert.deepEqual(await call('Config.Delete', { namespace, path: 'db.url' }), { deleted: false })
    await assert.rejects(call('Config.Get', { namespace, path: 'db.url' }), code(404, /db\.url is not set/))
  })

  test('a secret is stored sealed, shown as [secret], and revealed only when asked', async () => {
    const namespace = ns()
    await call('Config.Set', { namespace, path: 'db.password', value: 'hunter2', secret: true })
    const stored = await storeKV(platform.engines.store).read('config', { namespace })
    assert.ok(stored && !stored.includes('hunter2'), 'the store never holds the plaintext')
    const sealed = (JSON.parse(stored) as { db: { password: string } }).db.password
    assert.ok(isSealed(sealed))
    assert.deepEqual(await call('Config.Get', { namespace, path: 'db.password' }), { value: '[secret]' })
    assert.deepEqual(await call('Config.Read', { namespace }), { value: { db: { password: '[secret]' } } })
    assert.deepEqual(await call('Config.Get', { namespace, path: 'db', secret: true }), {
      value: { password: 'hunter2' },
    })
    await assert.rejects(
      call('Config.Set', { namespace, path: 'x', value: 42, secret: true }),
      code(400, /secret value must be a string/),
    )
  })

  test('bad requests are 400s and nothing changes', async () => {
    const namespace = ns()
    await call('Config.Set', { namespace, path: 'a', value: 1 })
    for (const [endpoint, request, detail] of [
      ['Config.Set', { namespace, path: 'a..b', value: 1 }, /empty segment/],
      ['Config.Set', { namespace, path: '__proto__.x', value: 1 }, /reserved/],
      ['Config.Set', { namespace, path: 'a' }, /needs a value/],
      ['Config.Set', { namespace, path: '', value: 1 }, /path is required/],
      ['Config.Get', { namespace: 'a.b', path: 'a' }, /bad namespace/],
      ['Config.Get', [1, 2], /JSON object/],
      ['Config.Delete', { namespace }, /path is required/],
      ['Config.Get', { namespace, path: 'a', secret: 'yes' }, /secret must be true or false/],
    ] as const)
      await assert.rejects(
        call(endpoint, request),
        code(400, detail),
        `${endpoint} ${JSON.stringify(request)}`,
      )
    assert.deepEqual(await call('Config.Read', { namespace }), { value: { a: 1 } })
  })

  test('`micro config` on the platform store and the Config service share one document', async () => {
    const namespace = ns()
    const out: string[] = []
    const env = { MICRO_CONFIG_SECRET_KEY: TEST_SECRET_KEY.toString('base64') }
    const micro = (...argv: string[]) =>
      configCommand([...argv, '--namespace', namespace], (text) => out.push(text), {
        openKV: () => storeKV(new ServiceStore({ address: platform.address })),
        env,
      })
    assert.equal(await micro('set', 'api.token', 's3cret', '--secret'), 0)
    assert.equal(await micro('set', 'api.url', 'https://api'), 0)
    assert.deepEqual(await call('Config.Get', { namespace, path: 'api' }), {
      value: { token: '[secret]', url: 'https://api' },
    })
    assert.deepEqual(await call('Config.Get', { namespace, path: 'api.token', secret: true }), {
      value: 's3cret',
    })
    await call('Config.Set', { namespace, path: 'api.retries', value: 3 })
    assert.equal(await micro('get', 'api.retries'), 0)
    assert.equal(out.at(-1), '3')
  })
})
