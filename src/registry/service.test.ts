import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { PlatformService } from '../platform/services/platform.js'
import { startTestPlatform } from '../platform/services/test-platform.js'
import { registryConformance } from './conformance.js'
import { iterate, nextEvent, node, serviceRecord } from './conformance-kit.js'
import { MemoryRegistry } from './memory.js'
import { ServiceRegistry } from './service.js'
import type { PlatformWatch } from './service-watch.js'

describe('service registry (a platform on a memory registry)', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  registryConformance('service', () => new ServiceRegistry({ address: platform.address }))
})

describe('service registry when the platform restarts', () => {
  test('watches reconnect and resync; this instance registers again what it had', async () => {
    const first = await startTestPlatform()
    const address = first.address
    const owner = new ServiceRegistry({ address })
    const watcher = new ServiceRegistry({ address })
    const namespace = `restart-${randomUUID().slice(0, 8)}`
    let second: PlatformService | undefined
    try {
      const watch = watcher.watch({ namespace }) as PlatformWatch
      await watch.ready
      const events = iterate(watch)
      // Registered by this process, and (directly in the old engine) by someone who is gone.
      await owner.register(serviceRecord('orders', '1.0.0', [node('mine')]), { namespace, ttl: 30_000 })
      await first.engines.registry.register(serviceRecord('orders', '1.0.0', [node('gone')]), { namespace })
      const seen = [await nextEvent(events, 15_000), await nextEvent(events, 15_000)]
      assert.deepEqual(seen.map((e) => `${e.action} ${e.service.nodes[0]?.id}`).sort(), [
        'create gone',
        'create mine',
      ])
      await first.close()

      // The platform comes back on the same port with an empty registry, where meanwhile a
      // new node registered.
      const registry = new MemoryRegistry({ sweepInterval: 100 })
      await registry.register(serviceRecord('orders', '1.0.0', [node('new')]), { namespace })
      second = await startTestPlatform({ address, registry })
      const after: string[] = []
      while (
        !(after.includes('create new') && after.includes('delete gone') && after.includes('create mine'))
      ) {
        const event = await nextEvent(events, 20_000).catch((error: Error) => {
          throw new Error(`${error.message}; saw ${after.join(', ')}`)
        })
        for (const n of event.service.nodes) after.push(`${event.action} ${n.id}`)
      }
      const nodes = (await registry.getService('orders', { namespace })).flatMap((s) =>
        s.nodes.map((n) => n.id),
      )
      assert.deepEqual(nodes.sort(), ['mine', 'new'])
    } finally {
      await owner.close()
      await watcher.close()
      await second?.close()
      await first.close()
    }
  })
})
