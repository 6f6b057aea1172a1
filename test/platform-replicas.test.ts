import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Delivery } from '../src/broker/broker.js'
import { ServiceBroker } from '../src/broker/service.js'
import { ServiceEvents } from '../src/events/service.js'
import { createLogger } from '../src/logger/logger.js'
import { type PlatformService, startPlatformService } from '../src/platform/services/platform.js'
import { node, serviceRecord } from '../src/registry/conformance-kit.js'
import { ServiceRegistry } from '../src/registry/service.js'
import { ServiceStore } from '../src/store/service.js'
import { removeNatsStreams } from '../src/testing/cleanup.js'
import { testServer } from '../src/testing/servers.js'
import { type Child, spawnNode } from './support/process.js'

const nats = testServer('nats')
const postgres = testServer('postgres')
const logger = createLogger({ level: 'silent' })

/** Drops the store schemas of a namespace. */
async function dropSchemas(namespace: string): Promise<void> {
  const { Client, escapeIdentifier } = await import('pg')
  const client = new Client({ connectionString: postgres.address })
  await client.connect()
  try {
    const { rows } = await client.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`micro_store_${namespace}%`],
    )
    for (const { nspname } of rows) await client.query(`DROP SCHEMA ${escapeIdentifier(nspname)} CASCADE`)
  } finally {
    await client.end()
  }
}

/** Retry `attempt` until `check` holds on its result; the test's timeout bounds it. */
async function eventually<T>(attempt: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await attempt().catch(() => undefined)
    if (value !== undefined && check(value)) return value
    await sleep(50)
  }
}

describe('two platform replicas on one NATS and one PostgreSQL', { skip: nats.skip || postgres.skip }, () => {
  // Every run has its own namespace: its subjects, streams, schemas and topics are its own.
  const namespace = `replicas-${randomUUID().slice(0, 8)}`
  const env = {
    MICRO_REGISTRY: 'nats',
    MICRO_REGISTRY_ADDRESS: nats.address ?? '',
    MICRO_BROKER: 'nats',
    MICRO_BROKER_ADDRESS: nats.address ?? '',
    MICRO_EVENTS: 'nats',
    MICRO_EVENTS_ADDRESS: nats.address ?? '',
    MICRO_STORE: 'postgres',
    MICRO_STORE_ADDRESS: postgres.address ?? '',
    MICRO_CONFIG_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
  }
  let inProcess: PlatformService
  let child: Child
  let a: string
  let b: string
  const closers: (() => Promise<unknown>)[] = []
  before(async () => {
    // One replica in this process, one in a process of its own: nothing shared but the engines.
    inProcess = await startPlatformService({ address: '127.0.0.1:0', env, logger })
    child = spawnNode(['--import', 'tsx', 'test/fixtures/platform-replica.ts'], env)
    a = inProcess.address
    b = (await child.waitFor(/platform on (\S+)/, 30_000))[1] as string
  })
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {})
    child?.process.kill('SIGTERM')
    await child?.exited
    await inProcess?.close()
    await removeNatsStreams(nats.address ?? '', `MICRO_EVENTS_${namespace}`).catch(() => {})
    await dropSchemas(namespace).catch(() => {})
  })
  const closing = <T extends { close(): Promise<unknown> }>(made: T): T => {
    closers.push(() => made.close())
    return made
  }

  test('store and config: written through one, read through the other', async () => {
    const viaA = closing(new ServiceStore({ address: a }))
    const viaB = closing(new ServiceStore({ address: b }))
    await viaA.write('order:1', { total: 3 }, { namespace, metadata: { by: 'a' } })
    assert.deepEqual(await viaB.read('order:1', { namespace }), {
      key: 'order:1',
      value: { total: 3 },
      metadata: { by: 'a' },
    })
    await viaB.delete('order:1', { namespace })
    assert.deepEqual(await viaA.list({ namespace }), [])
    const call = (address: string, endpoint: string, request: unknown) =>
      inProcess.service.client.call('platform', endpoint, request, { address })
    await call(a, 'Config.Set', { namespace, path: 'db.password', value: 'pw', secret: true })
    assert.deepEqual(await call(b, 'Config.Get', { namespace, path: 'db.password', secret: true }), {
      value: 'pw',
    })
  })

  test('registry: registered through one, listed and watched through the other', async () => {
    const viaA = closing(new ServiceRegistry({ address: a }))
    const viaB = closing(new ServiceRegistry({ address: b }))
    const watch = viaB.watch({ namespace })
    const seen = watch[Symbol.asyncIterator]()
    await (watch as unknown as { ready: Promise<void> }).ready
    await viaA.register(serviceRecord('orders', '1.0.0', [node('orders-1')]), { namespace, ttl: 30_000 })
    const listed = await eventually(
      () => viaB.listServices({ namespace }),
      (services) => services.length === 1,
    )
    assert.deepEqual(
      listed.flatMap((s) => s.nodes.map((n) => n.id)),
      ['orders-1'],
    )
    const created = await seen.next()
    assert.equal(created.value?.action, 'create')
    assert.equal(created.value?.service.nodes[0]?.id, 'orders-1')
    watch.stop()
  })

  test('broker: published through one, delivered through the other; a queue group spans both', async () => {
    const viaA = closing(new ServiceBroker({ address: a, namespace, logger }))
    const viaB = closing(new ServiceBroker({ address: b, namespace, logger }))
    const plain: string[] = []
    await viaB.subscribe('orders.created', (d) => void plain.push(Buffer.from(d.body).toString()))
    const group: [string, string][] = []
    const member = (name: string) => (d: Delivery) => void group.push([name, Buffer.from(d.body).toString()])
    await viaA.subscribe('orders.created', member('a'), { queue: 'workers' })
    await viaB.subscribe('orders.created', member('b'), { queue: 'workers' })
    const n = 20
    for (let i = 0; i < n; i++) {
      await viaA.publish('orders.created', { body: Buffer.from(`m${i}`) })
      // One publish per turn, so batching cannot put them all on one member.
      await sleep(1)
    }
    await eventually(
      async () => [plain.length, group.length],
      ([p, g]) => p === n && g === n,
    )
    assert.deepEqual(
      plain,
      Array.from({ length: n }, (_, i) => `m${i}`),
    )
    assert.equal(new Set(group.map(([, body]) => body)).size, n, 'each message once in the group')
    const members = new Set(group.map(([name]) => name))
    assert.deepEqual([...members].sort(), ['a', 'b'], 'both replicas serve members of the group')
  })

  test('events: published through one, consumed through the other', async () => {
    const viaA = closing(new ServiceEvents({ address: a, logger }))
    const viaB = closing(new ServiceEvents({ address: b, logger }))
    const consumer = viaB.consume<{ n: number }>('audit', { namespace, group: 'auditors', offset: 0 })
    await consumer.ready
    for (let n = 0; n < 5; n++) await viaA.publish('audit', { n }, { namespace })
    const got: number[] = []
    for await (const event of consumer) {
      got.push(event.payload.n)
      if (got.length === 5) break
    }
    assert.deepEqual(got, [0, 1, 2, 3, 4])
    assert.deepEqual(
      (await viaB.read('audit', { namespace })).map((e) => (e.payload as { n: number }).n),
      [0, 1, 2, 3, 4],
    )
  })
})
