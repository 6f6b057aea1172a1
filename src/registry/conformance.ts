import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  expectNotFound,
  node,
  nodeIds,
  normalise,
  type SuiteContext,
  serviceRecord,
  sleep,
  suiteContext,
  uniqueName,
} from './conformance-kit.js'
import { watchConformance } from './conformance-watch.js'
import { ANY_NAMESPACE, DEFAULT_NAMESPACE, type Registry } from './registry.js'

/** Options of {@link registryConformance}. */
export interface ConformanceOptions {
  /** How long to wait after a change before asserting, for eventually-consistent registries. Default 0. */
  settleMs?: number
}

/**
 * The behaviour every Registry implementation must show, as node:test tests. Call it from a
 * `*.test.ts` file with a factory for the implementation; each test gets a new registry and a
 * random namespace and closes the registry when done.
 */
export function registryConformance(
  name: string,
  create: () => Promise<Registry> | Registry,
  options: ConformanceOptions = {},
): void {
  const ctx = suiteContext(create, options.settleMs ?? 0)
  describe(`registry conformance: ${name}`, () => {
    lookupConformance(ctx)
    deregisterConformance(ctx)
    ttlConformance(ctx)
    watchConformance(ctx)
  })
}

function lookupConformance({ withRegistry, settle }: SuiteContext): void {
  test('register then getService returns the whole record', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace })
      await settle()
      assert.deepEqual(await registry.getService(record.name, { namespace }), [record])
    }))

  test('several nodes and versions: one record per version, each with its nodes', () =>
    withRegistry(async (registry, namespace) => {
      const name = uniqueName()
      const v1 = serviceRecord(name, '1.0.0', [node('a', 9001), node('b', 9002)])
      const v2 = { ...serviceRecord(name, '2.0.0', [node('c', 9003)]), metadata: { generation: 'two' } }
      await registry.register(v1, { namespace })
      await registry.register(v2, { namespace })
      await settle()
      assert.deepEqual(normalise(await registry.getService(name, { namespace })), [v1, v2])
    }))

  test('re-registering a node updates its record', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace })
      const changed = {
        ...record,
        endpoints: [{ name: 'Greeter.Bye', metadata: {} }],
        nodes: [node('n1', 9100)],
      }
      await registry.register(changed, { namespace })
      await settle()
      assert.deepEqual(await registry.getService(record.name, { namespace }), [changed])
    }))

  test('getService of an unknown service rejects with a 404 MicroError', () =>
    withRegistry(async (registry, namespace) => {
      await expectNotFound(registry.getService(uniqueName('missing'), { namespace }))
    }))

  test('listServices returns every service version of the namespace', () =>
    withRegistry(async (registry, namespace) => {
      const a = serviceRecord(uniqueName('a'), '1.0.0', [node('a1')])
      const b1 = serviceRecord(uniqueName('b'), '1.0.0', [node('b1')])
      const b2 = serviceRecord(b1.name, '2.0.0', [node('b2')])
      for (const record of [a, b1, b2]) await registry.register(record, { namespace })
      await settle()
      const listed = (await registry.listServices({ namespace })).map((r) => `${r.name}@${r.version}`).sort()
      assert.deepEqual(listed, [`${a.name}@1.0.0`, `${b1.name}@1.0.0`, `${b1.name}@2.0.0`].sort())
      assert.deepEqual(await registry.listServices({ namespace: `${namespace}-empty` }), [])
    }))

  test('namespaces are isolated; ANY_NAMESPACE lists them all', () =>
    withRegistry(async (registry, namespace) => {
      const nsA = `${namespace}-a`
      const nsB = `${namespace}-b`
      const name = uniqueName()
      await registry.register(serviceRecord(name, '1.0.0', [node('in-a')]), { namespace: nsA })
      await registry.register(serviceRecord(name, '1.0.0', [node('in-b')]), { namespace: nsB })
      await settle()
      assert.deepEqual(nodeIds(await registry.getService(name, { namespace: nsA })), ['in-a'])
      assert.deepEqual(nodeIds(await registry.getService(name, { namespace: nsB })), ['in-b'])
      await expectNotFound(registry.getService(name, { namespace: `${namespace}-c` }))
      assert.deepEqual(await registry.listServices({ namespace: `${namespace}-c` }), [])
      const all = (await registry.listServices({ namespace: ANY_NAMESPACE })).filter((r) => r.name === name)
      assert.deepEqual(nodeIds(all), ['in-a', 'in-b'])
    }))

  test('calls without a namespace use the default one', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName('default'), '1.0.0', [node('d1')])
      await registry.register(record)
      try {
        await settle()
        assert.deepEqual(await registry.getService(record.name), [record])
        assert.deepEqual(await registry.getService(record.name, { namespace: DEFAULT_NAMESPACE }), [record])
        await expectNotFound(registry.getService(record.name, { namespace }))
      } finally {
        await registry.deregister(record)
      }
    }))

  test('records returned and registered are copies', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      const expected = structuredClone(record)
      await registry.register(record, { namespace })
      // Editing what was registered must not reach the registry...
      record.metadata.owner = 'mallory'
      ;(record.nodes[0] as { metadata: Record<string, string> }).metadata.zone = 'elsewhere'
      await settle()
      const first = await registry.getService(record.name, { namespace })
      assert.deepEqual(first, [expected])
      // ...nor editing what it returned, down to the schemas.
      const got = first[0]!
      got.name = 'renamed'
      got.metadata.owner = 'mallory'
      got.nodes.push(node('intruder'))
      got.endpoints[0]!.metadata.description = 'changed'
      ;(got.endpoints[0]!.request as { required: string[] }).required.push('evil')
      assert.deepEqual(await registry.getService(expected.name, { namespace }), [expected])
    }))
}

function deregisterConformance({ withRegistry, settle }: SuiteContext): void {
  test('deregister removes only the given nodes; the last node takes the service with it', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('a', 9001), node('b', 9002), node('c', 9003)])
      const other = serviceRecord(record.name, '2.0.0', [node('d', 9004)])
      await registry.register(record, { namespace })
      await registry.register(other, { namespace })
      await registry.deregister({ ...record, nodes: [node('b', 9002)] }, { namespace })
      await settle()
      assert.deepEqual(nodeIds(await registry.getService(record.name, { namespace })), ['a', 'c', 'd'])
      await registry.deregister({ ...record, nodes: [node('a', 9001), node('c', 9003)] }, { namespace })
      await settle()
      assert.deepEqual(normalise(await registry.getService(record.name, { namespace })), [other])
      await registry.deregister(other, { namespace })
      await settle()
      await expectNotFound(registry.getService(record.name, { namespace }))
      assert.deepEqual(await registry.listServices({ namespace }), [])
    }))
}

function ttlConformance({ withRegistry, settle, settleMs }: SuiteContext): void {
  test('a registration not renewed expires after its TTL', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      const keeper = serviceRecord(uniqueName('keeper'), '1.0.0', [node('k1')])
      await registry.register(record, { namespace, ttl: 1500 })
      await registry.register(keeper, { namespace })
      await settle()
      assert.deepEqual(nodeIds(await registry.getService(record.name, { namespace })), ['n1'])
      await sleep(2600 + settleMs)
      await expectNotFound(registry.getService(record.name, { namespace }))
      const listed = (await registry.listServices({ namespace })).map((r) => r.name)
      assert.deepEqual(listed, [keeper.name])
    }))

  test('re-registering renews the TTL', () =>
    withRegistry(async (registry, namespace) => {
      const record = serviceRecord(uniqueName(), '1.0.0', [node('n1')])
      await registry.register(record, { namespace, ttl: 1500 })
      for (let i = 0; i < 2; i++) {
        await sleep(700)
        await registry.register(record, { namespace, ttl: 1500 })
        await settle()
        assert.deepEqual(nodeIds(await registry.getService(record.name, { namespace })), ['n1'])
      }
      // 2.1 s after the first registration, 0.7 s after the last renewal: only renewing keeps it.
      await sleep(700)
      assert.deepEqual(nodeIds(await registry.getService(record.name, { namespace })), ['n1'])
    }))
}
