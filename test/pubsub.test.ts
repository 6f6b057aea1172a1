import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { testServer } from '../src/testing/servers.js'
import { type Child, runNode, spawnNode } from './support/process.js'

interface Received {
  received: { id: number; item: string }
  id: string
  topic: string
  caller: string
  traceparent: string
}

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** The JSON lines a subscriber printed. */
function received(child: Child): Received[] {
  return child
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Received)
}

async function waitForCount(children: Child[], n: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  const total = () => children.reduce((sum, c) => sum + received(c).length, 0)
  while (total() < n) {
    if (Date.now() > end) throw new Error(`timed out: ${total()}/${n} messages received`)
    await sleep(20)
  }
}

/** The same checks over one broker configuration (environment). */
function scenarios(label: string, brokerEnv: () => Record<string, string>) {
  describe(`examples/pubsub as separate processes (${label})`, () => {
    const children: Child[] = []
    const env = () => ({
      MICRO_NAMESPACE: `pubsub-${randomUUID().slice(0, 8)}`,
      MICRO_LOG_LEVEL: 'warn',
      ...brokerEnv(),
    })
    const subscriber = async (base: Record<string, string>, extra: Record<string, string> = {}) => {
      const child = spawnNode(['build/examples/pubsub/subscriber.js'], { ...base, ...extra })
      children.push(child)
      await child.waitFor(/subscribed to orders\.created/)
      return child
    }
    const publishOrders = async (base: Record<string, string>, count: number) => {
      const run = await runNode(['build/examples/pubsub/publisher.js'], {
        ...base,
        PUBSUB_COUNT: String(count),
      })
      assert.equal(run.code, 0, run.stderr)
      assert.match(run.stdout, new RegExp(`published ${count} orders`))
    }
    after(() => {
      for (const child of children) child.process.kill('SIGKILL')
    })

    test('the subscriber gets every order, with its id, the caller and the trace context', async () => {
      const base = env()
      const sub = await subscriber(base)
      await publishOrders(base, 5)
      await waitForCount([sub], 5)
      const got = received(sub)
      assert.deepEqual(
        got.map((m) => m.received.id),
        [1, 2, 3, 4, 5],
      )
      for (const m of got) {
        assert.equal(m.topic, 'orders.created')
        assert.equal(m.caller, 'pubsub-publisher')
        assert.equal(m.traceparent, traceparent)
        assert.match(m.id, /^[0-9a-f-]{36}$/)
      }
      assert.equal(new Set(got.map((m) => m.id)).size, 5)
      sub.process.kill('SIGTERM')
      assert.equal(await sub.exited, 0)
    })

    test('two subscribers in one queue group share the orders; a plain one gets them all', async () => {
      const base = env()
      const workers = [
        await subscriber(base, { PUBSUB_QUEUE: 'workers' }),
        await subscriber(base, { PUBSUB_QUEUE: 'workers' }),
      ]
      const audit = await subscriber(base)
      await publishOrders(base, 20)
      await waitForCount(workers, 20)
      await waitForCount([audit], 20)
      await sleep(200)
      const shared = workers.flatMap((w) => received(w).map((m) => m.received.id)).sort((a, b) => a - b)
      assert.deepEqual(
        shared,
        Array.from({ length: 20 }, (_, i) => i + 1),
        'each order exactly once across the group',
      )
      for (const w of workers) assert.ok(received(w).length > 0, 'both members work')
      assert.equal(received(audit).length, 20)
    })
  })
}

// Lookups gather answers for a second, not 100 ms: the publisher must hear all three
// subscriber processes, which a loaded machine may let answer late.
scenarios('default broker, mDNS', () => ({ MICRO_REGISTRY_ADDRESS: 'mdns://?timeout=1000' }))

const nats = testServer('nats')
describe('examples/pubsub over nats', { skip: nats.skip }, () => {
  scenarios('nats', () => ({ MICRO_BROKER: 'nats', MICRO_BROKER_ADDRESS: nats.address as string }))
})
