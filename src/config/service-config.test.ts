import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { MemoryConfigKV } from './memory-kv.js'
import { memorySource } from './memory-source.js'
import { envPrefix, loadServiceConfig } from './service-config.js'
import { ConfigDocument } from './store-document.js'
import { tempDir } from './test-files.js'

describe('service config', () => {
  test('the env prefix is the service name upper-cased with _ for other characters, then __', () => {
    assert.equal(envPrefix('shop-api'), 'SHOP_API__')
    assert.equal(envPrefix('go.micro.srv.greeter'), 'GO_MICRO_SRV_GREETER__')
  })

  test('one prefix rule: shop does not read the variables of shop-api, nor the reverse', async () => {
    const env = { SHOP_API__URL: 'of shop-api', SHOP__API_URL: 'of shop', SHOP_API_URL: 'neither' }
    const shop = await loadServiceConfig({ name: 'shop', env, argv: [] })
    const shopApi = await loadServiceConfig({ name: 'shop-api', env, argv: [] })
    assert.deepEqual(shop.all(), { api: { url: 'of shop' } })
    assert.deepEqual(shopApi.all(), { url: 'of shop-api' })
    await Promise.all([shop.close(), shopApi.close()])
  })

  test('file < store < env < flags < extra', async () => {
    const tmp = await tempDir()
    try {
      const path = tmp.path('shop.yaml')
      await writeFile(path, 'a: file\nb: file\nc: file\nd: file\ne: file\n')
      const kv = new MemoryConfigKV()
      await new ConfigDocument(kv, { namespace: 'team' }).set('', { b: 'store', c: 'store', e: 'store' })
      const config = await loadServiceConfig({
        name: 'shop-api',
        env: {
          MICRO_CONFIG_FILE: path,
          SHOP_API__C: 'env',
          SHOP_API__D: 'env',
          SHOP_API_E: 'not this service',
          OTHER_A: 'x',
        },
        argv: ['--d=flag'],
        store: kv,
        namespace: 'team',
        extra: [memorySource({ f: 'extra' })],
      })
      assert.deepEqual(config.all(), { a: 'file', b: 'store', c: 'env', d: 'flag', e: 'store', f: 'extra' })
      await config.close()
    } finally {
      await tmp.cleanup()
    }
  })

  test('a change to the store document reaches a watcher; another namespace does not', async () => {
    const kv = new MemoryConfigKV()
    const config = await loadServiceConfig({
      name: 'shop',
      env: {},
      argv: [],
      store: kv,
      namespace: 'team',
      storePollInterval: 20,
    })
    // The poll timer is unref'd (it never keeps a process up): hold the loop open meanwhile.
    const alive = setInterval(() => {}, 1000)
    try {
      const changes = config.watch('feature.on')
      await new ConfigDocument(kv, { namespace: 'other' }).set('feature.on', false)
      await new ConfigDocument(kv, { namespace: 'team' }).set('feature.on', true)
      const next = await changes.next()
      assert.equal(next.value?.bool(), true)
      assert.equal(config.get('feature.on').bool(), true)
    } finally {
      clearInterval(alive)
      await config.close()
    }
  })

  test('without MICRO_CONFIG_FILE there is no file; a named file that is missing is a 404', async () => {
    const config = await loadServiceConfig({ name: 's', env: { S__X: '1' }, argv: [] })
    assert.deepEqual(config.all(), { x: '1' })
    await config.close()
    await assert.rejects(
      loadServiceConfig({ name: 's', env: { MICRO_CONFIG_FILE: '/nonexistent/micro/s.json' }, argv: [] }),
      (e: unknown) => e instanceof MicroError && e.code === 404,
    )
  })
})
