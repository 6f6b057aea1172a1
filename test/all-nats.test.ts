import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../src/errors/errors.js'
import { createLogger } from '../src/logger/logger.js'
import { createService, type Service } from '../src/service/service.js'
import { removeNatsStreams } from '../src/testing/cleanup.js'
import { testServer } from '../src/testing/servers.js'
import { type Child, spawnNode } from './support/process.js'

const nats = testServer('nats')

/** Every building block on NATS, and nothing else. */
function natsEnv(address: string, namespace: string): Record<string, string> {
  return {
    MICRO_NAMESPACE: namespace,
    MICRO_REGISTRY: 'nats',
    MICRO_REGISTRY_ADDRESS: address,
    MICRO_TRANSPORT: 'nats',
    MICRO_TRANSPORT_ADDRESS: address,
    MICRO_BROKER: 'nats',
    MICRO_BROKER_ADDRESS: address,
    MICRO_EVENTS: 'nats',
    MICRO_EVENTS_ADDRESS: address,
    MICRO_LOG_LEVEL: 'warn',
  }
}

describe('a service with registry, transport, broker and events all on NATS', { skip: nats.skip }, () => {
  const namespace = `allnats-${randomUUID().slice(0, 8)}`
  const env = natsEnv(nats.address as string, namespace)
  const children: Child[] = []
  let caller: Service

  before(() => {
    // This test file runs in its own process: the caller reads the same MICRO_* settings.
    Object.assign(process.env, env)
    caller = createService({
      name: 'allnats-caller',
      logger: createLogger({ level: 'warn' }),
      handleSignals: false,
    })
  })
  after(async () => {
    await caller.stop()
    for (const child of children) child.process.kill('SIGKILL')
    await removeNatsStreams(nats.address as string, `MICRO_EVENTS_${namespace}`)
  })

  test('serves on a NATS subject (no TCP port) and answers calls and streams found through NATS', async () => {
    const greeter = spawnNode(['build/examples/helloworld/main.js'], env)
    children.push(greeter)
    const address = (await greeter.waitFor(/serving on (\S+)/))[1] as string
    assert.match(address, new RegExp(`^micro\\.${namespace}\\.greeter\\.`), 'the node address is its subject')
    const [record] = await caller.registry.getService('greeter', { namespace })
    assert.equal(record?.nodes[0]?.metadata.transport, 'nats')
    const reply = await caller.client.call('greeter', 'Greeter.Hello', { name: 'Nats' })
    assert.deepEqual(reply, { message: 'Hello Nats', from: 'allnats-caller' })
    const replies: string[] = []
    for await (const r of caller.client
      .service<{ Chat(i: AsyncIterable<{ name: string }>): AsyncIterable<{ message: string }> }>('greeter')
      .Chat([{ name: 'a' }, { name: 'b' }]))
      replies.push(r.message)
    assert.deepEqual(replies, ['Hello a', 'Hello b'])
    await assert.rejects(caller.client.call('greeter', 'Greeter.Nope', {}), (e: MicroError) => e.code === 404)
    greeter.process.kill('SIGTERM')
    assert.equal(await greeter.exited, 0)
  })

  test('publishes reach a subscriber process over the NATS broker', async () => {
    const subscriber = spawnNode(['build/examples/pubsub/subscriber.js'], env)
    children.push(subscriber)
    await subscriber.waitFor(/subscribed to orders\.created/)
    await new Promise((r) => setTimeout(r, 200))
    for (let id = 1; id <= 3; id++) await caller.client.publish('orders.created', { id, item: 'book' })
    await subscriber.waitFor(/"id":3,"item":"book"/)
    const received = subscriber
      .stdout()
      .split('\n')
      .filter((line) => line.includes('"received"'))
      .map((line) => JSON.parse(line).received.id)
    assert.deepEqual(received, [1, 2, 3])
    subscriber.process.kill('SIGTERM')
    await subscriber.exited
  })

  test('durable events go through JetStream', async () => {
    const topic = `orders-${randomUUID().slice(0, 8)}`
    await caller.events.publish(topic, { n: 1 }, { metadata: { source: 'test' } })
    await caller.events.publish(topic, { n: 2 })
    const consumer = caller.events.consume<{ n: number }>(topic, {
      group: 'billing',
      offset: 1,
      ack: 'manual',
    })
    const seen: number[] = []
    for await (const ev of consumer) {
      seen.push(ev.payload.n)
      await ev.ack()
      if (seen.length === 2) break
    }
    assert.deepEqual(seen, [1, 2])
    const stored = await caller.events.read(topic)
    assert.equal(stored[0]?.metadata.source, 'test')
  })
})
