import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { Delivery } from '../../broker/broker.js'
import { ServiceBroker } from '../../broker/service.js'
import { storeKV } from '../../config/store-kv.js'
import { ServiceEvents } from '../../events/service.js'
import { createLogger } from '../../logger/logger.js'
import { iterate, nextEvent, node, serviceRecord } from '../../registry/conformance-kit.js'
import { ServiceRegistry } from '../../registry/service.js'
import { ServiceStore } from '../../store/service.js'
import type { PlatformService } from './platform.js'
import { startTestPlatform } from './test-platform.js'

const logger = createLogger({ level: 'silent' })

/** Waits until `check` holds (polling; the test's own timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe('namespaces on the platform: nothing leaks from one to another', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  const pair = () => {
    const id = randomUUID().slice(0, 8)
    return [`ns-a-${id}`, `ns-b-${id}`] as const
  }

  test('store: the same key in two namespaces, listed, read and deleted apart', async () => {
    const [a, b] = pair()
    const store = new ServiceStore({ address: platform.address })
    try {
      await store.write('k', 'in a', { namespace: a })
      await store.write('k', 'in b', { namespace: b, database: 'other' })
      assert.equal((await store.read('k', { namespace: a })).value, 'in a')
      assert.equal((await store.read('k', { namespace: b, database: 'other' })).value, 'in b')
      await assert.rejects(store.read('k', { namespace: b }), { code: 404 })
      assert.deepEqual(await store.databases({ namespace: a }), ['micro'])
      assert.deepEqual(await store.databases({ namespace: b }), ['other'])
      assert.deepEqual(await store.list({ namespace: b }), [])
      await store.delete('k', { namespace: a })
      assert.equal((await store.read('k', { namespace: b, database: 'other' })).value, 'in b')
    } finally {
      await store.close()
    }
  })

  test('config: each namespace has its own document', async () => {
    const [a, b] = pair()
    const call = (endpoint: string, request: unknown) =>
      platform.service.client.call('platform', endpoint, request, { address: platform.address })
    await call('Config.Set', { namespace: a, path: 'db.url', value: 'postgres://a' })
    assert.deepEqual(await call('Config.Read', { namespace: b }), { value: {} })
    await call('Config.Set', { namespace: b, path: 'db.url', value: 'postgres://b' })
    assert.deepEqual(await call('Config.Get', { namespace: a, path: 'db.url' }), { value: 'postgres://a' })
    const kv = storeKV(platform.engines.store)
    assert.match((await kv.read('config', { namespace: a })) ?? '', /postgres:\/\/a/)
    assert.doesNotMatch((await kv.read('config', { namespace: a })) ?? '', /postgres:\/\/b/)
  })

  test('registry: register, get, list and watch stay in their namespace', async () => {
    const [a, b] = pair()
    const registry = new ServiceRegistry({ address: platform.address })
    try {
      const inB = iterate(registry.watch({ namespace: b }))
      const inA = iterate(registry.watch({ namespace: a }))
      const record = serviceRecord('twin', '1.0.0', [node('in-a')])
      await registry.register(record, { namespace: a })
      await registry.register(serviceRecord('twin', '1.0.0', [node('in-b')]), { namespace: b })
      const seenA = await nextEvent(inA, 15_000)
      const seenB = await nextEvent(inB, 15_000)
      assert.deepEqual([seenA.namespace, seenA.service.nodes[0]?.id], [a, 'in-a'])
      assert.deepEqual([seenB.namespace, seenB.service.nodes[0]?.id], [b, 'in-b'])
      assert.deepEqual(
        (await registry.getService('twin', { namespace: a })).flatMap((s) => s.nodes.map((n) => n.id)),
        ['in-a'],
      )
      assert.deepEqual(
        (await registry.listServices({ namespace: b })).flatMap((s) => s.nodes.map((n) => n.id)),
        ['in-b'],
      )
      await registry.deregister(record, { namespace: a })
      assert.equal((await nextEvent(inA, 15_000)).action, 'delete')
      assert.equal((await registry.listServices({ namespace: b })).length, 1)
    } finally {
      await registry.close()
    }
  })

  test('events: a topic of one namespace is not read or consumed from another', async () => {
    const [a, b] = pair()
    const events = new ServiceEvents({ address: platform.address, logger })
    try {
      const inB = events.consume('orders', { namespace: b, offset: 0 })
      await inB.ready
      const received: unknown[] = []
      const loop = (async () => {
        for await (const event of inB) received.push(event.payload)
      })()
      await events.publish('orders', { for: 'a' }, { namespace: a })
      await events.publish('orders', { for: 'b' }, { namespace: b })
      assert.deepEqual(
        (await events.read('orders', { namespace: a })).map((e) => e.payload),
        [{ for: 'a' }],
      )
      await until(() => received.length >= 1)
      inB.stop()
      await loop
      assert.deepEqual(received, [{ for: 'b' }])
    } finally {
      await events.close()
    }
  })

  test('broker: a topic of one namespace reaches only that namespace', async () => {
    const [a, b] = pair()
    const inA = new ServiceBroker({ address: platform.address, namespace: a, logger })
    const inB = new ServiceBroker({ address: platform.address, namespace: b, logger })
    try {
      const gotA: Delivery[] = []
      const gotB: Delivery[] = []
      await inA.subscribe('orders', (d) => void gotA.push(d))
      await inB.subscribe('orders', (d) => void gotB.push(d))
      // A topic that spells another namespace's prefix is still a topic of this one.
      await inA.subscribe(`${b}.orders`, (d) => void gotA.push(d))
      await inA.publish('orders', { body: Buffer.from('for a') })
      await inB.publish('orders', { body: Buffer.from('for b') })
      await until(() => gotA.length >= 1 && gotB.length >= 1)
      // Every earlier message has gone through the platform (one connection) once this one is back.
      const marker: Delivery[] = []
      await inB.subscribe('marker', (d) => void marker.push(d))
      await inB.publish('marker', { body: Buffer.from('') })
      await until(() => marker.length === 1)
      assert.deepEqual(
        gotA.map((d) => [d.topic, d.headers['micro-topic'], Buffer.from(d.body).toString()]),
        [['orders', 'orders', 'for a']],
      )
      assert.deepEqual(
        gotB.map((d) => [d.topic, Buffer.from(d.body).toString()]),
        [['orders', 'for b']],
      )
    } finally {
      await Promise.all([inA.close(), inB.close()])
    }
  })
})
