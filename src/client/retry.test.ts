import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { after, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { NodeRecord, ServiceRecord } from '../registry/registry.js'
import type { SelectOptions, Selector } from '../selector/selector.js'
import { endpoint } from '../server/endpoint.js'
import { createService } from '../service/service.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { isLost, lostError, unsentError } from '../transport/transport-errors.js'
import { Client } from './client.js'
import { idempotentOn, retryOnUnavailable } from './retry.js'

const quiet = createLogger({ level: 'silent' })
const cleanup: (() => Promise<void> | void)[] = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

/** Picks nodes in registry order, skipping ones already tried: the first attempt is predictable. */
class InOrder implements Selector {
  readonly name = 'in-order'
  select(services: readonly ServiceRecord[], options?: SelectOptions): NodeRecord | undefined {
    const nodes = services.flatMap((s) => s.nodes).sort((a, b) => a.id.localeCompare(b.id))
    return nodes.find((n) => !options?.exclude?.has(n.id))
  }
  mark(): void {}
}

/**
 * A TCP node that takes a request and drops the connection: the call is lost after it was
 * sent. `beforeDrop` runs first (e.g. the node deregisters, as a stopping service does).
 */
async function droppingNode(
  beforeDrop: () => Promise<void> = async () => {},
): Promise<{ address: string; requests: () => number }> {
  let requests = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('data', async () => {
      requests++
      await beforeDrop()
      socket.destroy()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanup.push(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const { port } = server.address() as { port: number }
  return { address: `127.0.0.1:${port}`, requests: () => requests }
}

class Store {
  ran = 0
  Get = endpoint({ idempotent: true }, async (req: { key: string }) => {
    this.ran++
    return `value of ${req.key}`
  })
  async Put(_req: { key: string }) {
    this.ran++
    return 'stored'
  }
}

describe('retries', () => {
  test('the default rule: unsent and draining 503s retry; a lost call only when idempotent', () => {
    const call = { service: 's', endpoint: 'S.E', idempotent: false }
    assert.equal(retryOnUnavailable(unsentError('refused'), 1, call), true)
    assert.equal(retryOnUnavailable(new MicroError('s', 'shutting down', 503), 1, call), true)
    assert.equal(retryOnUnavailable(lostError('gone'), 1, call), false)
    assert.equal(retryOnUnavailable(lostError('gone'), 1, { ...call, idempotent: true }), true)
    assert.equal(
      retryOnUnavailable(new MicroError('s', 'boom', 500), 1, { ...call, idempotent: true }),
      false,
    )
  })

  test('idempotency is read from the record that lists the node', () => {
    const records: ServiceRecord[] = [
      {
        name: 's',
        version: '1',
        metadata: {},
        endpoints: [{ name: 'S.Get', metadata: { idempotent: 'true' } }],
        nodes: [{ id: 'a', address: 'a', metadata: {} }],
      },
      {
        name: 's',
        version: '2',
        metadata: {},
        endpoints: [{ name: 'S.Get', metadata: {} }],
        nodes: [{ id: 'b', address: 'b', metadata: {} }],
      },
    ]
    assert.equal(idempotentOn(records, 'a', 'S.Get'), true)
    assert.equal(idempotentOn(records, 'b', 'S.Get'), false)
    assert.equal(idempotentOn(records, 'a', 'S.Put'), false)
    assert.equal(idempotentOn(undefined, 'a', 'S.Get'), false)
  })

  test('a call lost after sending is retried on another node only when the endpoint is idempotent', async () => {
    const registry = new MemoryRegistry()
    const store = new Store()
    const service = createService({
      name: 'store',
      version: '1',
      registry,
      logger: quiet,
      handleSignals: false,
    })
    service.handle(store)
    await service.start()
    cleanup.push(() => service.stop())
    const dropping = await droppingNode()
    const [published] = await registry.getService('store')
    // The dropping node publishes the same endpoints; its id sorts first, so it is tried first.
    await registry.register({
      ...(published as ServiceRecord),
      nodes: [{ id: '0-dropping', address: dropping.address, metadata: {} }],
    })
    const client = new Client({
      lookup: new RegistryCache(registry),
      transport: new MicroTransport(),
      selector: new InOrder(),
      local: false,
    })
    cleanup.push(() => client.close())
    assert.equal(await client.call('store', 'Store.Get', { key: 'k' }), 'value of k')
    assert.equal(dropping.requests(), 1, 'the first attempt went to the dropping node')
    assert.equal(store.ran, 1)
    await assert.rejects(client.call('store', 'Store.Put', { key: 'k' }), (e: unknown) => {
      assert.ok(e instanceof MicroError && e.code === 503 && isLost(e), `got ${e}`)
      assert.match(e.detail, /Store\.Put may have run/)
      return true
    })
    assert.equal(dropping.requests(), 2)
    assert.equal(store.ran, 1, 'the non-idempotent call was not run again elsewhere')
  })

  test('a lost call to a node that deregistered while it was in flight is still known idempotent', async () => {
    const registry = new MemoryRegistry()
    const store = new Store()
    const service = createService({
      name: 'store',
      version: '1',
      registry,
      logger: quiet,
      handleSignals: false,
    })
    service.handle(store)
    await service.start()
    cleanup.push(() => service.stop())
    const [published] = await registry.getService('store')
    let leaving: ServiceRecord | undefined
    // A gracefully stopping node: it leaves the registry, then its connection closes.
    const dropping = await droppingNode(async () => {
      await registry.deregister(leaving as ServiceRecord)
      await new Promise((resolve) => setTimeout(resolve, 20))
    })
    leaving = {
      ...(published as ServiceRecord),
      nodes: [{ id: '0-leaving', address: dropping.address, metadata: {} }],
    }
    await registry.register(leaving)
    const lookup = new RegistryCache(registry)
    const client = new Client({
      lookup,
      transport: new MicroTransport(),
      selector: new InOrder(),
      local: false,
    })
    cleanup.push(() => client.close())
    assert.equal(await client.call('store', 'Store.Get', { key: 'k' }), 'value of k')
    assert.equal(dropping.requests(), 1, 'the first attempt went to the leaving node')
    assert.ok(
      !lookup.peek('store', 'micro')?.some((r) => r.nodes.some((n) => n.id === '0-leaving')),
      'the cache had dropped the node by the time the call failed',
    )
  })

  test('aborting a call during its back-off ends it at once with a 499', async () => {
    const registry = new MemoryRegistry()
    await registry.register({
      name: 'nowhere',
      version: '1',
      metadata: {},
      endpoints: [],
      nodes: [
        { id: 'a', address: '127.0.0.1:1', metadata: {} },
        { id: 'b', address: '127.0.0.1:2', metadata: {} },
      ],
    })
    const controller = new AbortController()
    let attempts = 0
    const client = new Client({
      lookup: new RegistryCache(registry),
      transport: new MicroTransport({ dialTimeout: 1000 }),
      selector: new InOrder(),
      local: false,
      // A back-off of up to ten minutes; the caller gives up as soon as it has started.
      retry: {
        retries: 5,
        backoffBase: 600_000,
        backoffMax: 600_000,
        retryOn: () => {
          attempts++
          setImmediate(() => controller.abort())
          return true
        },
      },
    })
    cleanup.push(() => client.close())
    const call = client.call('nowhere', 'X.Y', {}, { signal: controller.signal, timeout: 600_000 })
    let guard: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      call.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      new Promise((resolve) => {
        guard = setTimeout(() => resolve('still sleeping after 10 s'), 10_000)
      }),
    ])
    clearTimeout(guard)
    assert.ok(outcome instanceof MicroError && outcome.code === 499, `got ${outcome}`)
    assert.equal(attempts, 1, 'no second attempt was made')
  })
})
