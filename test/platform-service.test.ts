import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { ServiceBroker } from '../src/broker/service.js'
import { Client } from '../src/client/client.js'
import { ServiceEvents } from '../src/events/service.js'
import { createLogger } from '../src/logger/logger.js'
import type { PlatformService } from '../src/platform/services/platform.js'
import { startTestPlatform } from '../src/platform/services/test-platform.js'
import { RegistryCache } from '../src/registry/cache.js'
import { ServiceRegistry } from '../src/registry/service.js'
import { createSelector } from '../src/selector/from-name.js'
import { MicroTransport } from '../src/transport/micro-transport.js'
import { type Child, spawnNode } from './support/process.js'

const logger = createLogger({ level: 'silent' })

interface Probe {
  pid: number
  blocks: Record<string, string>
  lmdb: number
  udp: number
}

/** The fixture service on MICRO_PLATFORM only, with a home of its own (to see what it creates). */
function startUser(platform: string, home: string): Child {
  return spawnNode(['--import', 'tsx', 'test/fixtures/platform-user.ts'], {
    MICRO_PLATFORM: platform,
    HOME: home,
    // Whatever the test run has set, only MICRO_PLATFORM speaks here.
    MICRO_REGISTRY: '',
    MICRO_BROKER: '',
    MICRO_EVENTS: '',
    MICRO_STORE: '',
    MICRO_CONFIG: '',
    MICRO_REGISTER_INTERVAL: '',
  })
}

/** A client that finds services through the platform's registry only. */
function platformClient(address: string) {
  const registry = new ServiceRegistry({ address })
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
    caller: 'test',
  })
  return {
    client,
    async close() {
      await client.close()
      await registry.close()
    },
  }
}

/** Retry `attempt` until `check` holds on what it returns; the test's timeout bounds it. */
async function eventually<T>(attempt: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await attempt().catch(() => undefined)
    if (value !== undefined && check(value)) return value
    await sleep(50)
  }
}

describe('a service with MICRO_PLATFORM', () => {
  const cleanup: (() => Promise<unknown> | unknown)[] = []
  after(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })

  test('registers, is found, stores, publishes, consumes and reads config through the platform and nothing else', async () => {
    const platform = await startTestPlatform()
    cleanup.push(() => platform.close())
    const home = mkdtempSync(join(tmpdir(), 'micro-platform-user-'))
    cleanup.push(() => rmSync(home, { recursive: true, force: true }))
    await platform.service.client.call(
      'platform',
      'Config.Set',
      { path: 'greeting', value: 'hello from the platform' },
      { address: platform.address },
    )
    const user = startUser(platform.address, home)
    cleanup.push(() => user.process.kill('SIGKILL'))
    await user.waitFor(/serving on/, 30_000)
    const { client, close } = platformClient(platform.address)
    cleanup.push(close)
    const call = <T>(endpoint: string, request: unknown = {}) =>
      client.call<T>('platform-user', endpoint, request)

    // Found through the platform's registry.
    const records = await platform.engines.registry.getService('platform-user')
    assert.equal(records[0]?.nodes.length, 1)
    const probe = await call<Probe>('User.Probe')
    assert.deepEqual(probe.blocks, {
      registry: 'service',
      broker: 'service',
      events: 'service',
      store: 'service',
    })
    // The config came from the platform's document.
    assert.deepEqual(await call('User.Config', { path: 'greeting' }), { value: 'hello from the platform' })
    // Stores on the platform.
    await call('User.Put', { key: 'order:1', value: { total: 12 } })
    assert.deepEqual((await platform.engines.store.read('order:1')).value, { total: 12 })
    assert.deepEqual(await call('User.Get', { key: 'order:1' }), { value: { total: 12 } })
    // Publishes through the platform (broker and events).
    const broker = new ServiceBroker({ address: platform.address, logger })
    const events = new ServiceEvents({ address: platform.address, logger })
    cleanup.push(
      () => broker.close(),
      () => events.close(),
    )
    const heard: string[] = []
    await broker.subscribe('shipments', (d) => void heard.push(Buffer.from(d.body).toString()))
    await call('User.Publish', { topic: 'shipments', payload: { id: 1 } })
    await eventually(
      async () => heard,
      (h) => h.length === 1,
    )
    assert.deepEqual(JSON.parse(heard[0] as string), { id: 1 })
    assert.deepEqual(
      (await events.read('shipments')).map((e) => e.payload),
      [{ id: 1 }],
    )
    // Consumes through the platform: its subscriber and its events consumer.
    await broker.publish('greetings', {
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('"hi"'),
    })
    await events.publish('audit', { who: 'test' })
    const received = await eventually(
      () => call<{ messages: unknown[]; events: unknown[] }>('User.Received'),
      (r) => r.messages.length === 1 && r.events.length === 1,
    )
    assert.deepEqual(received, { messages: ['hi'], events: [{ who: 'test' }] })

    // Nothing else: no multicast socket (mDNS), no LMDB environment, nothing under ~/.micro.
    const after = await call<Probe>('User.Probe')
    assert.equal(after.udp, 0, 'no UDP socket: mDNS was never started')
    assert.equal(after.lmdb, 0, 'no LMDB environment was opened')
    assert.equal(existsSync(join(home, '.micro')), false, 'nothing was written under ~/.micro')
  })

  test('keeps serving when its platform goes away, and is back on it when it returns', async () => {
    const first = await startTestPlatform()
    const address = first.address
    const home = mkdtempSync(join(tmpdir(), 'micro-platform-user-'))
    cleanup.push(() => rmSync(home, { recursive: true, force: true }))
    await first.service.client.call(
      'platform',
      'Config.Set',
      { path: 'greeting', value: 'cached' },
      { address },
    )
    const user = startUser(address, home)
    cleanup.push(() => user.process.kill('SIGKILL'))
    await user.waitFor(/serving on/, 30_000)
    const { client, close } = platformClient(address)
    cleanup.push(close)
    const call = <T>(endpoint: string, request: unknown = {}) =>
      client.call<T>('platform-user', endpoint, request)
    const { pid } = await call<Probe>('User.Probe')

    await first.close()
    // The client resolved the service before: its calls go on, and so does the service.
    for (let i = 0; i < 5; i++) assert.equal((await call<Probe>('User.Probe')).pid, pid)
    assert.deepEqual(await call('User.Config', { path: 'greeting' }), { value: 'cached' })
    await assert.rejects(call('User.Put', { key: 'k', value: 1 }), /503|unavailable|connect/i)

    // The platform comes back on the same port, with nothing in its engines.
    const platform: PlatformService = await eventually(
      () => startTestPlatform({ address }),
      () => true,
    )
    cleanup.push(() => platform.close())
    // The service registers again by itself.
    await eventually(
      () => platform.engines.registry.getService('platform-user'),
      (records) => records.some((r) => r.nodes.length > 0),
    )
    // Its store calls work again, against the new platform.
    await eventually(
      () => call('User.Put', { key: 'k', value: 2 }),
      () => true,
    )
    assert.deepEqual((await platform.engines.store.read('k')).value, 2)
    // Its subscription and its consumer come back: what is published now reaches it.
    const broker = new ServiceBroker({ address, logger })
    const events = new ServiceEvents({ address, logger })
    cleanup.push(
      () => broker.close(),
      () => events.close(),
    )
    await events.publish('audit', { after: 'restart' })
    const received = await eventually(
      async () => {
        // At most once: a message published before it subscribed again is not delivered.
        await broker.publish('greetings', {
          headers: { 'content-type': 'application/json' },
          body: Buffer.from('"again"'),
        })
        return call<{ messages: unknown[]; events: unknown[] }>('User.Received')
      },
      (r) => r.messages.includes('again') && r.events.length === 1,
    )
    assert.deepEqual(received.events, [{ after: 'restart' }])
    assert.equal((await call<Probe>('User.Probe')).pid, pid, 'the same process all along')
  })
})
