import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { internalServerError, notFound } from '../errors/errors.js'
import { RegistryCache } from './cache.js'
import {
  expectNotFound,
  node,
  nodeIds,
  serviceRecord,
  sleep,
  uniqueName,
  waitFor,
} from './conformance-kit.js'
import { MemoryRegistry } from './memory.js'
import type {
  NamespaceOption,
  RegisterOptions,
  Registry,
  ServiceRecord,
  WatchEvent,
  Watcher,
  WatchOptions,
} from './registry.js'

/** A MemoryRegistry that counts lookups and watches, and can be told to fail. */
class TestRegistry implements Registry {
  readonly name = 'test'
  readonly inner = new MemoryRegistry({ sweepInterval: 50 })
  lookups = 0
  /** Delay after the inner lookup, so the snapshot is older than the answer. */
  delay = 0
  fail: 'error' | 'not-found' | undefined
  /** How many of the next watch() calls fail. */
  failWatches = 0
  watchCalls: number[] = []
  activeWatches = 0

  register(service: ServiceRecord, options?: RegisterOptions): Promise<void> {
    return this.inner.register(service, options)
  }
  deregister(service: ServiceRecord, options?: NamespaceOption): Promise<void> {
    return this.inner.deregister(service, options)
  }
  async getService(name: string, options?: NamespaceOption): Promise<ServiceRecord[]> {
    this.lookups++
    if (this.fail === 'error') throw internalServerError('test', 'registry down')
    if (this.fail === 'not-found') throw notFound('test', 'gone')
    const records = await this.inner.getService(name, options)
    if (this.delay > 0) await sleep(this.delay)
    return records
  }
  listServices(options?: NamespaceOption): Promise<ServiceRecord[]> {
    return this.inner.listServices(options)
  }
  watch(options?: WatchOptions): Watcher {
    this.watchCalls.push(Date.now())
    if (this.failWatches > 0) {
      this.failWatches--
      // Alternate the two ways a watch can fail: at once, or once iterated.
      if (this.failWatches % 2 === 1) throw new Error('watch refused')
      return {
        stop() {},
        [Symbol.asyncIterator]: (): AsyncIterator<WatchEvent> => ({
          next: () => Promise.reject(new Error('watch broke')),
        }),
      }
    }
    const inner = this.inner.watch(options)
    this.activeWatches++
    const done = () => this.activeWatches--
    return {
      stop: () => inner.stop(),
      async *[Symbol.asyncIterator]() {
        try {
          yield* inner
        } finally {
          done()
        }
      },
    }
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

describe('RegistryCache', () => {
  let registry: TestRegistry
  let cache: RegistryCache
  let namespace: string

  beforeEach(() => {
    registry = new TestRegistry()
    cache = new RegistryCache(registry, { minBackoff: 20, retryInterval: 100 })
    namespace = `t-${randomUUID()}`
  })
  afterEach(async () => {
    await cache.close()
    await registry.close()
  })

  test('a fresh entry is served without a second lookup; its records are frozen', async () => {
    const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
    await registry.register(record, { namespace })
    assert.equal(cache.peek(record.name, namespace), undefined)
    assert.deepEqual(await cache.getService(record.name, namespace), [record])
    assert.deepEqual(await cache.getService(record.name, namespace), [record])
    assert.deepEqual(cache.peek(record.name, namespace), [record])
    assert.equal(registry.lookups, 1)
    const cached = cache.peek(record.name, namespace)!
    assert.throws(() => {
      ;(cached[0] as ServiceRecord).nodes.push(node('intruder'))
    }, TypeError)
    assert.equal(cache.peek(record.name, `${namespace}-other`), undefined)
  })

  test('an entry older than the TTL is looked up again', async () => {
    const short = new RegistryCache(registry, { ttl: 30 })
    try {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace })
      await short.getService(record.name, namespace)
      await sleep(50)
      assert.equal(short.peek(record.name, namespace), undefined)
      await short.getService(record.name, namespace)
      assert.equal(registry.lookups, 2)
    } finally {
      await short.close()
    }
  })

  test('concurrent lookups of one service share a single registry call', async () => {
    const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
    await registry.register(record, { namespace })
    registry.delay = 50
    const results = await Promise.all(
      Array.from({ length: 5 }, () => cache.getService(record.name, namespace)),
    )
    assert.equal(registry.lookups, 1)
    for (const result of results) assert.deepEqual(result, [record])
  })

  test('watch events keep the entry current without new lookups', async () => {
    const name = uniqueName()
    await registry.register(serviceRecord(name, '1.0.0', [node('a')]), { namespace })
    await cache.getService(name, namespace)
    await registry.register(serviceRecord(name, '1.0.0', [node('b')]), { namespace })
    await waitFor(() => nodeIds([...(cache.peek(name, namespace) ?? [])]).length === 2, 1000, 'node b')

    const changed = {
      ...serviceRecord(name, '1.0.0', [node('a', 9999)]),
      endpoints: [{ name: 'X.Y', metadata: {} }],
    }
    await registry.register(changed, { namespace })
    await waitFor(() => cache.peek(name, namespace)?.[0]?.endpoints[0]?.name === 'X.Y', 1000, 'new endpoints')
    const v1 = cache.peek(name, namespace)![0]!
    assert.deepEqual(
      v1.nodes.map((n) => n.address),
      ['127.0.0.1:9999', '127.0.0.1:9000'],
    )

    await registry.register(serviceRecord(name, '2.0.0', [node('c')]), { namespace })
    await waitFor(() => cache.peek(name, namespace)?.length === 2, 1000, 'version 2')
    assert.deepEqual(nodeIds([...cache.peek(name, namespace)!]), ['a', 'b', 'c'])
    assert.equal(registry.lookups, 1)
  })

  test('delete events remove nodes; a version without nodes disappears', async () => {
    const name = uniqueName()
    const v1 = serviceRecord(name, '1.0.0', [node('a'), node('b')])
    const v2 = serviceRecord(name, '2.0.0', [node('c')])
    await registry.register(v1, { namespace })
    await registry.register(v2, { namespace })
    await cache.getService(name, namespace)
    await registry.deregister({ ...v1, nodes: [node('b')] }, { namespace })
    await waitFor(() => nodeIds([...(cache.peek(name, namespace) ?? [])]).join() === 'a,c', 1000, 'b removed')
    await registry.deregister(v2, { namespace })
    await waitFor(() => cache.peek(name, namespace)?.length === 1, 1000, 'version 2 gone')
    assert.equal(cache.peek(name, namespace)![0]!.version, '1.0.0')
    await registry.deregister(v1, { namespace })
    await waitFor(() => cache.peek(name, namespace) === undefined, 1000, 'service gone')
    await expectNotFound(cache.getService(name, namespace))
  })

  test('events during an in-flight lookup are applied to its answer', async () => {
    const name = uniqueName()
    await registry.register(serviceRecord(name, '1.0.0', [node('a')]), { namespace })
    registry.delay = 100
    const pending = cache.getService(name, namespace)
    await sleep(20)
    // The registry has answered [a] already; b arrives only as a watch event.
    await registry.register(serviceRecord(name, '1.0.0', [node('b')]), { namespace })
    assert.deepEqual(nodeIds([...(await pending)]), ['a', 'b'])
  })

  test('a failing registry gets the stale entry back (stale-if-error)', async () => {
    const short = new RegistryCache(registry, { ttl: 30, retryInterval: 100 })
    try {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace })
      await short.getService(record.name, namespace)
      await sleep(50)
      registry.fail = 'error'
      assert.deepEqual(await short.getService(record.name, namespace), [record])
      assert.equal(registry.lookups, 2)
      // Within the retry interval the stale entry is served without asking again.
      assert.deepEqual(await short.getService(record.name, namespace), [record])
      assert.equal(registry.lookups, 2)
      await sleep(120)
      assert.deepEqual(await short.getService(record.name, namespace), [record])
      assert.equal(registry.lookups, 3)
      // Without anything cached the error goes to the caller.
      await assert.rejects(short.getService(uniqueName('never'), namespace), { code: 500 })
    } finally {
      await short.close()
    }
  })

  test('a 404 clears the entry and is rethrown', async () => {
    const short = new RegistryCache(registry, { ttl: 30 })
    try {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace })
      await short.getService(record.name, namespace)
      await sleep(50)
      registry.fail = 'not-found'
      await expectNotFound(short.getService(record.name, namespace))
      assert.equal(short.peek(record.name, namespace), undefined)
      await expectNotFound(short.getService(record.name, namespace))
      assert.equal(registry.lookups, 3)
      registry.fail = undefined
      assert.deepEqual(await short.getService(record.name, namespace), [record])
      await expectNotFound(short.getService(uniqueName('missing'), namespace))
    } finally {
      await short.close()
    }
  })

  test('a failing watch restarts with growing back-off, then keeps the entry current', async () => {
    registry.failWatches = 3
    const name = uniqueName()
    await registry.register(serviceRecord(name, '1.0.0', [node('a')]), { namespace })
    await cache.getService(name, namespace)
    await waitFor(() => registry.activeWatches === 1, 2000, 'a working watch')
    const [t0, t1, t2, t3] = registry.watchCalls as [number, number, number, number]
    assert.ok(
      t1 - t0 >= 15 && t2 - t1 >= 35 && t3 - t2 >= 75,
      `back-off gaps ${t1 - t0}, ${t2 - t1}, ${t3 - t2}`,
    )
    // Events may have been lost while the watch was down, so the entry is refetched once...
    await cache.getService(name, namespace)
    assert.equal(registry.lookups, 2)
    // ...and from then on the watch keeps it current.
    await registry.register(serviceRecord(name, '1.0.0', [node('b')]), { namespace })
    await waitFor(() => nodeIds([...(cache.peek(name, namespace) ?? [])]).length === 2, 1000, 'node b')
  })

  test('close() stops every watch', async () => {
    const a = serviceRecord(uniqueName('a'), '1.0.0', [node('a')])
    const b = serviceRecord(uniqueName('b'), '1.0.0', [node('b')])
    await registry.register(a, { namespace })
    await registry.register(b, { namespace })
    await cache.getService(a.name, namespace)
    await cache.getService(b.name, namespace)
    assert.equal(registry.activeWatches, 2)
    await cache.close()
    assert.equal(registry.activeWatches, 0)
    assert.equal(cache.peek(a.name, namespace), undefined)
  })
})
