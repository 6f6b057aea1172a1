import assert from 'node:assert/strict'
import { bytes, type Collector, collect, type Kit, waitUntil } from './conformance-kit.js'

type It = (title: string, fn: (kit: Kit) => Promise<void>) => void

/** Queue groups: sharing within a group, every group (and plain subscriber) gets everything. */
export function groupConformance(it: It): void {
  it('a queue group of two shares the messages: each exactly once across the group', async (kit) => {
    const [pub, a, b] = [await kit.broker(), await kit.broker(), await kit.broker()]
    const topic = kit.topic('group')
    const one = await collect(a, topic, { queue: 'workers' })
    const two = await collect(b, topic, { queue: 'workers' })
    const n = 40
    for (let i = 0; i < n; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    await waitTotal([one, two], n)
    await kit.quiet()
    const all = [...one.bodies(), ...two.bodies()].sort()
    assert.equal(all.length, n, 'no message twice')
    assert.equal(new Set(all).size, n, 'every message once')
    assert.ok(
      one.received.length > 0 && two.received.length > 0,
      `both members work: ${one.received.length}/${two.received.length}`,
    )
    for (const d of [...one.received, ...two.received]) assert.equal(d.queue, 'workers')
  })

  it('two members of one group in one broker share too', async (kit) => {
    const [pub, a] = [await kit.broker(), await kit.broker()]
    const topic = kit.topic('group-local')
    const one = await collect(a, topic, { queue: 'local' })
    const two = await collect(a, topic, { queue: 'local' })
    const n = 20
    for (let i = 0; i < n; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    await waitTotal([one, two], n)
    await kit.quiet()
    const all = [...one.bodies(), ...two.bodies()]
    assert.equal(all.length, n)
    assert.equal(new Set(all).size, n)
  })

  it('two groups each get every message, and so does a plain subscriber', async (kit) => {
    const [pub, a, b] = [await kit.broker(), await kit.broker(), await kit.broker()]
    const topic = kit.topic('groups')
    const g1 = [await collect(a, topic, { queue: 'g1' }), await collect(b, topic, { queue: 'g1' })]
    const g2 = [await collect(a, topic, { queue: 'g2' }), await collect(b, topic, { queue: 'g2' })]
    const plain = await collect(b, topic)
    const n = 10
    for (let i = 0; i < n; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    await waitTotal(g1, n)
    await waitTotal(g2, n)
    await plain.waitFor(n)
    await kit.quiet()
    const expected = Array.from({ length: n }, (_, i) => `m${i}`).sort()
    for (const group of [g1, g2]) assert.deepEqual(group.flatMap((c) => c.bodies()).sort(), expected)
    assert.deepEqual(plain.bodies().sort(), expected)
  })

  it('when a member leaves, the rest of its group gets the messages', async (kit) => {
    const [pub, a, b] = [await kit.broker(), await kit.broker(), await kit.broker()]
    const topic = kit.topic('leave')
    const stays = await collect(a, topic, { queue: 'q' })
    const leaves = await collect(b, topic, { queue: 'q' })
    await leaves.sub.unsubscribe()
    const n = 10
    for (let i = 0; i < n; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    await stays.waitFor(n)
    assert.equal(leaves.received.length, 0)
  })
}

async function waitTotal(collectors: Collector[], n: number): Promise<void> {
  await waitUntil(
    () => collectors.reduce((sum, c) => sum + c.received.length, 0) >= n,
    15_000,
    () => `${collectors.map((c) => c.received.length).join('+')}/${n} messages in the group`,
  )
}
