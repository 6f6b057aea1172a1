import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { memorySource } from './memory-source.js'
import { envPrefix, loadServiceConfig } from './service-config.js'
import { tempDir } from './test-files.js'

describe('service config', () => {
  test('the env prefix is the service name upper-cased with _ for other characters', () => {
    assert.equal(envPrefix('shop-api'), 'SHOP_API')
    assert.equal(envPrefix('go.micro.srv.greeter'), 'GO_MICRO_SRV_GREETER')
  })

  test('file < env < flags < extra', async () => {
    const tmp = await tempDir()
    try {
      const path = tmp.path('shop.yaml')
      await writeFile(path, 'a: file\nb: file\nc: file\nd: file\n')
      const config = await loadServiceConfig({
        name: 'shop-api',
        env: {
          MICRO_CONFIG_FILE: path,
          SHOP_API_B: 'env',
          SHOP_API_C: 'env',
          SHOP_API_D: 'env',
          OTHER_A: 'x',
        },
        argv: ['--c=flag', '--d', 'flag'],
        extra: [memorySource({ d: 'extra' })],
      })
      assert.deepEqual(config.all(), { a: 'file', b: 'env', c: 'flag', d: 'extra' })
      await config.close()
    } finally {
      await tmp.cleanup()
    }
  })

  test('without MICRO_CONFIG_FILE there is no file; a named file that is missing is a 404', async () => {
    const config = await loadServiceConfig({ name: 's', env: { S_X: '1' }, argv: [] })
    assert.deepEqual(config.all(), { x: '1' })
    await config.close()
    await assert.rejects(
      loadServiceConfig({ name: 's', env: { MICRO_CONFIG_FILE: '/nonexistent/micro/s.json' }, argv: [] }),
      (e: unknown) => e instanceof MicroError && e.code === 404,
    )
  })
})
