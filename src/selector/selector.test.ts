import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { NodeRecord, ServiceRecord } from '../registry/registry.js'
import { selectorConformance } from './conformance.js'
import { createSelector } from './from-name.js'
import { LeastInFlightSelector } from './least-in-flight.js'
import { RandomSelector } from './random.js'
import { RoundRobinSelector } from './round-robin.js'

selectorConformance('random', (o) => new RandomSelector(o))
selectorConformance('round-robin', (o) => new RoundRobinSelector(o))
selectorConformance('least-in-flight', (o) => new LeastInFlightSelector(o))

const twoNodes: ServiceRecord[] = [
  {
    name: 's',
    version: '1',
    metadata: {},
    endpoints: [],
    nodes: [
      { id: 'a', address: '127.0.0.1:1', metadata: {} },
      { id: 'b', address: '127.0.0.1:2', metadata: {} },
    ],
  },
]

test('round-robin alternates between nodes', () => {
  const selector = new RoundRobinSelector()
  const ids: string[] = []
  for (let i = 0; i < 6; i++) {
    const node = selector.select(twoNodes) as NodeRecord
    ids.push(node.id)
    selector.mark(node)
  }
  for (let i = 1; i < ids.length; i++) assert.notEqual(ids[i], ids[i - 1])
})

test('least-in-flight sends new calls to the less busy node', () => {
  const selector = new LeastInFlightSelector()
  const held: NodeRecord[] = []
  // Keep 10 calls open; with two nodes, P2C always compares both and must balance them.
  for (let i = 0; i < 10; i++) held.push(selector.select(twoNodes) as NodeRecord)
  assert.equal(selector.inFlight('a'), 5)
  assert.equal(selector.inFlight('b'), 5)
  for (const node of held.filter((n) => n.id === 'a')) selector.mark(node)
  const next = selector.select(twoNodes) as NodeRecord
  assert.equal(next.id, 'a')
})

test('createSelector names the valid choices for an unknown one', () => {
  assert.equal(createSelector().name, 'least-in-flight')
  assert.throws(() => createSelector('fastest'), /least-in-flight, random, round-robin/)
})
