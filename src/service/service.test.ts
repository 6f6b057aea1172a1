import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { describe, test } from 'node:test'
import type { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import { createService } from './service.js'
import { resolveSettings } from './settings.js'

const quiet = createLogger({ level: 'silent' })

describe('service', () => {
  test('start registers the node with its endpoints; stop deregisters', async () => {
    const registry = new MemoryRegistry()
    const service = createService({
      name: 'greeter',
      version: '2.1.0',
      metadata: { team: 'core' },
      registry,
      logger: quiet,
      handleSignals: false,
    })
    service.handle(
      { Hello: async (req: { name: string }) => ({ message: `Hello ${req.name}` }) },
      { name: 'Greeter' },
    )
    await service.start()
    const [record] = await registry.getService('greeter')
    assert.equal(record?.version, '2.1.0')
    assert.deepEqual(record?.metadata, { team: 'core' })
    assert.deepEqual(
      record?.endpoints.map((e) => e.name),
      ['Greeter.Hello'],
    )
    assert.equal(record?.nodes[0]?.id, service.id)
    assert.equal(record?.nodes[0]?.address, service.address)
    assert.match(service.address ?? '', /^127\.0\.0\.1:\d+$/)
    await service.stop()
    await assert.rejects(registry.getService('greeter'), (e: MicroError) => e.code === 404)
    await service.stopped
  })

  test('lifecycle hooks run in order around start and stop', async () => {
    const order: string[] = []
    const service = createService({
      name: 'hooks',
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
    })
    service.handle({ Ping: async () => 'pong' }, { name: 'H' })
    service
      .beforeStart(() => void order.push('beforeStart'))
      .afterStart(() => void order.push(`afterStart:${service.address !== undefined}`))
      .beforeStop(() => void order.push('beforeStop'))
      .afterStop(() => void order.push('afterStop'))
    await service.start()
    await service.stop()
    assert.deepEqual(order, ['beforeStart', 'afterStart:true', 'beforeStop', 'afterStop'])
  })

  test('stop drains calls in flight, then refuses new ones', async () => {
    const registry = new MemoryRegistry()
    let release!: () => void
    const server = createService({
      name: 'drain',
      registry,
      logger: quiet,
      handleSignals: false,
      shutdownTimeout: 5000,
    })
    server.handle({ Hold: () => new Promise<string>((r) => (release = () => r('finished'))) }, { name: 'H' })
    await server.start()
    const caller = createService({ name: 'caller', registry, logger: quiet, handleSignals: false })
    const address = server.address as string
    const inFlight = caller.client.call('drain', 'H.Hold', {}, { address })
    // Stop only once the server runs the call (a fixed pause is too short on a busy machine).
    while (server.server.activeCalls === 0) await new Promise((r) => setTimeout(r, 5))
    const stopping = server.stop()
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(server.server.activeCalls, 1)
    release()
    assert.equal(await inFlight, 'finished')
    await stopping
    await assert.rejects(
      caller.client.call('drain', 'H.Hold', {}, { address, retries: 0 }),
      (e: MicroError) => e.code === 503,
    )
    await caller.stop()
  })

  test('the drain is bounded by shutdownTimeout', async () => {
    const service = createService({
      name: 'stuck',
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
      shutdownTimeout: 100,
    })
    service.handle({ Never: () => new Promise(() => {}) }, { name: 'H' })
    await service.start()
    const caller = createService({
      name: 'c',
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
    })
    const pending = caller.client.call('stuck', 'H.Never', {}, { address: service.address as string })
    pending.catch(() => {})
    await new Promise((r) => setTimeout(r, 50))
    const started = Date.now()
    await service.stop()
    assert.ok(Date.now() - started < 1000, 'stop waited past its bound')
    await assert.rejects(pending, (e: MicroError) => e.code === 503)
    await caller.stop()
  })

  test('a start failure is reported and cleans up', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    const registry = new MemoryRegistry()
    const service = createService({
      name: 'clash',
      address: `127.0.0.1:${port}`,
      registry,
      logger: quiet,
      handleSignals: false,
    })
    service.handle({ Ping: async () => 'pong' }, { name: 'H' })
    await assert.rejects(service.start(), /EADDRINUSE/)
    assert.deepEqual(await registry.listServices(), [])
    blocker.close()
  })

  test('settings come from options, then MICRO_* variables, then defaults', () => {
    const env = {
      MICRO_NAMESPACE: 'team-a',
      MICRO_SERVER_ADDRESS: '127.0.0.1:9999',
      MICRO_REGISTER_TTL: '60s',
      MICRO_REGISTER_INTERVAL: '20',
      MICRO_CLIENT_REQUEST_TIMEOUT: '1500ms',
    }
    const s = resolveSettings({ name: 'x' }, env)
    assert.equal(s.namespace, 'team-a')
    assert.equal(s.address, '127.0.0.1:9999')
    assert.equal(s.registerTtl, 60_000)
    assert.equal(s.registerInterval, 20_000)
    assert.equal(s.requestTimeout, 1500)
    assert.equal(resolveSettings({ name: 'x', namespace: 'mine' }, env).namespace, 'mine')
    const d = resolveSettings({ name: 'x' }, {})
    assert.deepEqual(
      [d.namespace, d.address, d.registerTtl, d.registerInterval, d.version],
      ['micro', '127.0.0.1:0', 30_000, 10_000, 'latest'],
    )
    assert.throws(
      () => resolveSettings({ name: 'x' }, { MICRO_REGISTER_TTL: 'soon' }),
      /MICRO_REGISTER_TTL must be a duration/,
    )
    assert.throws(
      () => resolveSettings({ name: 'x', registerTtl: 1000, registerInterval: 2000 }),
      /shorter than the TTL/,
    )
  })
})
