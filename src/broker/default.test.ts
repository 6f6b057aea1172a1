import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:net'
import { after, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { brokerConformance } from './conformance.js'
import { bytes, collect, text } from './conformance-kit.js'
import { DEFAULT_BROKER_SERVICE, DefaultBroker } from './default.js'

const logger = createLogger({ level: 'silent' })
const registry = new MemoryRegistry()
const namespace = `broker-${randomUUID().slice(0, 8)}`

brokerConformance('default (memory registry)', () => new DefaultBroker({ registry, namespace, logger }), {
  cleanup: () => registry.close(),
})

/** An address where nothing listens. */
async function deadAddress(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `127.0.0.1:${port}`
}

describe('default broker: nodes and faults', () => {
  const reg = new MemoryRegistry()
  const ns = `faults-${randomUUID().slice(0, 8)}`
  const brokers: DefaultBroker[] = []
  const make = () => {
    const broker = new DefaultBroker({ registry: reg, namespace: ns, logger })
    brokers.push(broker)
    return broker
  }
  after(async () => {
    for (const b of brokers) await b.close()
    await reg.close()
  })
  const fakeNode = async (topic: string, queue?: string) => {
    const metadata: Record<string, string> = { broker: 'default', topic }
    if (queue) metadata.queue = queue
    const node = { id: `dead-${randomUUID()}`, address: await deadAddress(), metadata }
    await reg.register(
      { name: DEFAULT_BROKER_SERVICE, version: 'latest', metadata: {}, endpoints: [], nodes: [node] },
      { namespace: ns },
    )
    return node
  }

  test('each subscription is a node of micro.broker with topic and queue, gone after unsubscribe', async () => {
    const broker = make()
    const sub = await broker.subscribe('nodes.shown', () => {}, { queue: 'workers' })
    const [record] = await reg.getService(DEFAULT_BROKER_SERVICE, { namespace: ns })
    const node = record?.nodes.find((n) => n.metadata.topic === 'nodes.shown')
    assert.ok(node, 'registered')
    assert.deepEqual(node.metadata, { broker: 'default', topic: 'nodes.shown', queue: 'workers' })
    assert.match(node.address, /^127\.0\.0\.1:\d+$/)
    await sub.unsubscribe()
    const left = await reg.listServices({ namespace: ns })
    assert.equal(left.flatMap((r) => r.nodes).filter((n) => n.metadata.topic === 'nodes.shown').length, 0)
  })

  test('namespaces are isolated', async () => {
    const other = new DefaultBroker({ registry: reg, namespace: `${ns}-other`, logger })
    brokers.push(other)
    const pub = make()
    const got = await collect(other, 'ns.isolated')
    await pub.publish('ns.isolated', { body: bytes('not for you') })
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(got.received.length, 0)
    await other.publish('ns.isolated', { body: bytes('yours') })
    await got.waitFor(1)
  })

  test('a queue group member that is down is skipped: the message goes to a live one', async () => {
    const topic = `dead.member.${randomUUID().slice(0, 8)}`
    await fakeNode(topic, 'g')
    await fakeNode(topic, 'g')
    const live = await collect(make(), topic, { queue: 'g' })
    const pub = make()
    for (let i = 0; i < 20; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    await live.waitFor(20)
    assert.deepEqual(
      live.bodies(),
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    )
  })

  test('a group with no live member: publish rejects with a 503 naming the group', async () => {
    const topic = `dead.group.${randomUUID().slice(0, 8)}`
    await fakeNode(topic, 'lost')
    await assert.rejects(
      make().publish(topic, { body: bytes('x') }),
      (e: unknown) => e instanceof MicroError && e.code === 503 && /queue group lost/.test(e.detail),
    )
  })

  test('a plain subscriber that is down is skipped; the others still get the message', async () => {
    const topic = `dead.plain.${randomUUID().slice(0, 8)}`
    await fakeNode(topic)
    const live = await collect(make(), topic)
    await make().publish(topic, { body: bytes('still here') })
    await live.waitFor(1)
    assert.equal(text(live.received[0]?.body ?? new Uint8Array()), 'still here')
  })

  test('a subscriber process that closed is skipped before its registration expires', async () => {
    const topic = `closed.member.${randomUUID().slice(0, 8)}`
    const transport = new MicroTransport()
    const gone = new DefaultBroker({ registry: reg, namespace: ns, logger, transport })
    await gone.subscribe(topic, () => {}, { queue: 'g' })
    const pub = make()
    // The publisher learns the node, then the subscriber's listener goes away without deregistering.
    const [record] = await reg.getService(DEFAULT_BROKER_SERVICE, { namespace: ns })
    const stale = record?.nodes.find((n) => n.metadata.topic === topic)
    assert.ok(stale)
    await gone.close()
    await reg.register(
      { name: DEFAULT_BROKER_SERVICE, version: 'latest', metadata: {}, endpoints: [], nodes: [stale] },
      { namespace: ns },
    )
    await transport.close()
    const live = await collect(make(), topic, { queue: 'g' })
    for (let i = 0; i < 10; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    await live.waitFor(10)
  })
})
