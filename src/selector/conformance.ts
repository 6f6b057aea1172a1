import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import type { NodeRecord, ServiceRecord } from '../registry/registry.js'
import { unsentError } from '../transport/transport-errors.js'
import type { NodeHealthOptions } from './node-health.js'
import type { Selector } from './selector.js'

function service(name: string, version: string, ids: string[]): ServiceRecord {
  return {
    name,
    version,
    metadata: {},
    endpoints: [],
    nodes: ids.map((id, i) => ({ id, address: `127.0.0.1:${10_000 + i}`, metadata: {} })),
  }
}

function pickMany(selector: Selector, services: ServiceRecord[], n: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const node = selector.select(services) as NodeRecord
    counts.set(node.id, (counts.get(node.id) ?? 0) + 1)
    selector.mark(node)
  }
  return counts
}

/**
 * The behaviour every Selector must have. `create` gets back-off options so the suite
 * can test recovery quickly.
 */
export function selectorConformance(name: string, create: (options: NodeHealthOptions) => Selector): void {
  describe(`selector conformance: ${name}`, () => {
    test('picks a node of the given services and nothing when there are none', () => {
      const selector = create({})
      const services = [service('a', '1', ['n1', 'n2', 'n3'])]
      const node = selector.select(services)
      assert.ok(node && ['n1', 'n2', 'n3'].includes(node.id))
      selector.mark(node)
      assert.equal(selector.select([]), undefined)
      assert.equal(selector.select([service('a', '1', [])]), undefined)
    })

    test('spreads calls over every node', () => {
      const selector = create({})
      const counts = pickMany(selector, [service('a', '1', ['n1', 'n2', 'n3', 'n4'])], 400)
      assert.equal(counts.size, 4)
      for (const [, n] of counts) assert.ok(n >= 40, `uneven spread: ${[...counts]}`)
    })

    test('respects the version filter and exclusions', () => {
      const selector = create({})
      const services = [service('a', '1', ['v1a', 'v1b']), service('a', '2', ['v2a'])]
      for (let i = 0; i < 20; i++) {
        const node = selector.select(services, { version: '2' }) as NodeRecord
        assert.equal(node.id, 'v2a')
        selector.mark(node)
      }
      for (let i = 0; i < 20; i++) {
        const node = selector.select(services, { exclude: new Set(['v1a', 'v2a']) }) as NodeRecord
        assert.equal(node.id, 'v1b')
        selector.mark(node)
      }
      assert.equal(selector.select(services, { version: '3' }), undefined)
    })

    test('sets a failing node aside and takes it back after its back-off', async () => {
      const selector = create({ baseBackoff: 150, maxBackoff: 1000 })
      const services = [service('a', '1', ['good', 'bad'])]
      const bad = services[0]?.nodes[1] as NodeRecord
      selector.select(services)
      selector.mark(bad, unsentError('connect ECONNREFUSED'))
      const counts = pickMany(selector, services, 50)
      assert.equal(counts.get('bad'), undefined, 'a node in back-off was picked')
      await new Promise((r) => setTimeout(r, 200))
      const later = pickMany(selector, services, 200)
      assert.ok((later.get('bad') ?? 0) > 0, 'the node never came back after its back-off')
    })

    test('handler errors do not set a node aside', () => {
      const selector = create({ baseBackoff: 10_000 })
      const services = [service('a', '1', ['x', 'y'])]
      const x = services[0]?.nodes[0] as NodeRecord
      selector.select(services)
      selector.mark(x, new MicroError('svc', 'bad input', 400))
      selector.select(services)
      selector.mark(x, new Error('boom'))
      const counts = pickMany(selector, services, 200)
      assert.ok((counts.get('x') ?? 0) > 0)
    })

    test('never picks a node that serves only HTTP (protocol http)', () => {
      const selector = create({})
      const services = [service('a', '1', ['rpc', 'web'])]
      const web = services[0]?.nodes[1] as NodeRecord
      ;(web as { metadata: Record<string, string> }).metadata = { protocol: 'http', transport: 'http' }
      const counts = pickMany(selector, services, 100)
      assert.equal(counts.get('web'), undefined)
      assert.equal(counts.get('rpc'), 100)
      assert.equal(selector.select([service('b', '1', [])]), undefined)
      const onlyWeb = [service('c', '1', ['w'])]
      ;(onlyWeb[0]?.nodes[0] as { metadata: Record<string, string> }).metadata = { protocol: 'http' }
      assert.equal(selector.select(onlyWeb), undefined)
    })

    test('fails open: when every node is set aside, the one that recovers first is tried', () => {
      const selector = create({ baseBackoff: 10_000 })
      const services = [service('a', '1', ['p', 'q'])]
      const [p, q] = (services[0] as ServiceRecord).nodes as [NodeRecord, NodeRecord]
      selector.select(services)
      selector.mark(p, unsentError('down'))
      selector.select(services)
      selector.mark(q, unsentError('down'))
      selector.select(services)
      selector.mark(q, unsentError('down again'))
      const node = selector.select(services)
      assert.equal(node?.id, 'p')
    })
  })
}
