import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import type { PlatformService } from '../platform/services/platform.js'
import { startTestPlatform, TEST_SECRET_KEY } from '../platform/services/test-platform.js'
import { MemoryStore } from '../store/memory.js'
import { ServiceStore } from '../store/service.js'
import { loadConfig } from './config.js'
import { configKVConformance, sourceConformance } from './conformance.js'
import { platformConfigSource } from './platform-source.js'
import { storeKV } from './store-kv.js'

describe('config on a platform', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  /** Set a path through the platform's Config service, as `micro config set` on a platform does. */
  const set = (namespace: string, path: string, value: unknown, secret = false) =>
    platform.service.client.call(
      'platform',
      'Config.Set',
      { namespace, path, value, secret },
      {
        address: platform.address,
      },
    )

  configKVConformance(
    'the platform store (storeKV over the service store)',
    () => storeKV(new ServiceStore({ address: platform.address })),
    (kv) => (kv as ReturnType<typeof storeKV>).close(),
  )

  sourceConformance(
    'platform config document',
    async () => {
      const namespace = `cfg-${randomUUID().slice(0, 8)}`
      await set(namespace, 'db', { url: 'postgres://a', pool: 5 })
      return {
        source: platformConfigSource({ address: platform.address, namespace, pollInterval: 20 }),
        expected: { db: { url: 'postgres://a', pool: 5 } },
        change: async () => {
          await set(namespace, 'db.url', 'postgres://b')
        },
        changed: { db: { url: 'postgres://b', pool: 5 } },
      }
    },
    { changeTimeout: 5000 },
  )

  test('a secret set on the platform loads sealed and opens with the key; it prints masked', async () => {
    const namespace = `cfg-${randomUUID().slice(0, 8)}`
    await set(namespace, 'db.password', 'hunter2', true)
    await set(namespace, 'db.user', 'shop')
    const config = await loadConfig({
      sources: [platformConfigSource({ address: platform.address, namespace })],
      secretKey: TEST_SECRET_KEY,
      watch: false,
    })
    try {
      assert.equal(config.get('db.user').string(), 'shop')
      assert.equal(config.get('db.password').string(), 'hunter2')
      assert.doesNotMatch(JSON.stringify(config.all()), /hunter2/)
    } finally {
      await config.close()
    }
  })

  test('the platform going away keeps the config a service loaded; a change after it is back arrives', async () => {
    const namespace = `cfg-${randomUUID().slice(0, 8)}`
    // The store outlives the platform, as the server's engine does across a restart.
    const store = new MemoryStore()
    const own = await startTestPlatform({ store })
    const address = own.address
    const call = (p: PlatformService, path: string, value: unknown) =>
      p.service.client.call('platform', 'Config.Set', { namespace, path, value }, { address })
    await call(own, 'feature', 'on')
    const config = await loadConfig({
      sources: [platformConfigSource({ address, namespace, pollInterval: 20 })],
      logger: createLogger({ level: 'silent' }),
    })
    try {
      assert.equal(config.get('feature').string(), 'on')
      await own.close()
      await assert.rejects(config.reload(), (e: unknown) => e instanceof MicroError && e.code === 503)
      assert.equal(config.get('feature').string(), 'on', 'the last good values stay')
      const again = await startTestPlatform({ address, store })
      try {
        const watcher = config.watch('feature')
        await call(again, 'feature', 'off')
        const next = await watcher.next()
        assert.equal(next.value?.string(), 'off')
      } finally {
        await again.close()
      }
    } finally {
      await config.close()
      await store.close()
    }
  })
})
