import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createLogger } from '../logger/logger.js'
import { removeRedisKeys } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { AmqpBroker } from './amqp.js'
import type { Broker } from './broker.js'
import { bytes, type Collector, collect, waitUntil } from './conformance-kit.js'
import { NatsBroker } from './nats.js'
import { RedisBroker } from './redis.js'

const logger = createLogger({ level: 'silent' })
const nats = testServer('nats')
const redis = testServer('redis')
const amqp = testServer('amqp')

/**
 * Let connections the brokers closed gracefully finish closing before the proxy is closed:
 * TcpProxy.cut() resets both sockets of a pair, and on Node 20 resetting a socket whose
 * end() is still pending fails with EINVAL and leaves a handle that makes the process spin
 * forever at exit.
 */
const settleProxy = () => sleep(300)

/** Count the bodies starting with `label-`. */
const count = (c: Collector, label: string) => c.bodies().filter((b) => b.startsWith(`${label}-`)).length

async function publishMany(broker: Broker, topic: string, label: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await broker.publish(topic, { body: bytes(`${label}-${i}`) })
}

/** Publish probes until each collector has one: the subscriptions are live again after a cut. */
async function untilFlowing(pub: Broker, topic: string, collectors: Collector[]): Promise<void> {
  const end = Date.now() + 20_000
  for (let i = 0; ; i++) {
    await pub.publish(topic, { body: bytes(`probe-${i}`) })
    await sleep(100)
    if (collectors.every((c) => count(c, 'probe') > 0)) return
    if (Date.now() > end) throw new Error('the subscription did not come back after the cut')
  }
}

/** No message arrives twice (every body is unique). */
function noDuplicates(c: Collector): void {
  const bodies = c.bodies()
  assert.equal(new Set(bodies).size, bodies.length, 'no duplicates')
}

/**
 * The cut scenario both engines run: the subscriber's connection goes through a proxy that
 * drops it mid-stream. What was sent before arrives; what is sent while it is cut may be
 * lost (at most once); once it has reconnected, everything arrives again.
 */
function cutScenario(make: (address: 'proxied' | 'direct') => Broker, label: string, proxy: () => TcpProxy) {
  test(`${label}: a subscriber whose connection is cut reconnects; later messages all arrive`, async () => {
    const pub = make('direct')
    const subBroker = make('proxied')
    try {
      const topic = `faults.${randomUUID().slice(0, 8)}`
      const plain = await collect(subBroker, topic)
      const group = await collect(subBroker, topic, { queue: 'workers' })
      await publishMany(pub, topic, 'before', 50)
      await plain.waitFor(50)
      await group.waitFor(50)
      proxy().cut()
      await publishMany(pub, topic, 'during', 50)
      await untilFlowing(pub, topic, [plain])
      await publishMany(pub, topic, 'after', 50)
      await waitUntil(
        () => count(plain, 'after') === 50 && count(group, 'after') === 50,
        20_000,
        () => `after: plain ${count(plain, 'after')}, group ${count(group, 'after')}`,
      )
      for (const c of [plain, group]) {
        assert.equal(count(c, 'before'), 50)
        assert.ok(count(c, 'during') <= 50)
        noDuplicates(c)
      }
    } finally {
      await pub.close()
      await subBroker.close()
    }
  })

  test(`${label}: a publisher whose server is unreachable for a while sends on reconnect`, async () => {
    const pub = make('proxied')
    const subBroker = make('direct')
    try {
      const topic = `faults.${randomUUID().slice(0, 8)}`
      const plain = await collect(subBroker, topic)
      await pub.publish(topic, { body: bytes('before-0') })
      await plain.waitFor(1)
      proxy().refuse()
      proxy().cut()
      // Messages written in the instant before a connection drops are lost (at most once);
      // this is about publishing once the client knows it is down.
      await sleep(200)
      const sending = publishMany(pub, topic, 'during', 20)
      await sleep(300)
      proxy().resume()
      await sending
      await waitUntil(
        () => count(plain, 'during') === 20,
        20_000,
        () => `during ${count(plain, 'during')}/20`,
      )
      noDuplicates(plain)
    } finally {
      proxy().resume()
      await pub.close()
      await subBroker.close()
    }
  })
}

describe('broker faults: nats connection cut', { skip: nats.skip }, () => {
  let proxy: TcpProxy
  before(async () => {
    proxy = await TcpProxy.start(new URL(nats.address as string).host)
  })
  after(async () => {
    await settleProxy()
    await proxy.close()
  })
  cutScenario(
    (where) =>
      new NatsBroker({ address: where === 'direct' ? nats.address : `nats://${proxy.address}`, logger }),
    'nats',
    () => proxy,
  )
})

describe('broker faults: redis connection cut', { skip: redis.skip }, () => {
  let proxy: TcpProxy
  const prefix = `test:faults:${process.pid}:`
  before(async () => {
    proxy = await TcpProxy.start(new URL(redis.address as string).host)
  })
  after(async () => {
    await settleProxy()
    await proxy.close()
    await removeRedisKeys(redis.address as string, prefix)
  })
  cutScenario(
    (where) =>
      new RedisBroker({
        address: where === 'direct' ? redis.address : `redis://${proxy.address}`,
        prefix,
        logger,
        groupTtl: 5000,
      }),
    'redis',
    () => proxy,
  )

  test('redis: queue-group messages published while the group is cut off wait in its list', async () => {
    const pub = new RedisBroker({ address: redis.address, prefix, logger, groupTtl: 5000 })
    const subBroker = new RedisBroker({ address: `redis://${proxy.address}`, prefix, logger, groupTtl: 5000 })
    try {
      const topic = `faults.${randomUUID().slice(0, 8)}`
      const group = await collect(subBroker, topic, { queue: 'workers' })
      await publishMany(pub, topic, 'before', 10)
      await group.waitFor(10)
      proxy.refuse()
      proxy.cut()
      // Let the server notice the dropped blocking client before anything is pushed.
      await sleep(200)
      await publishMany(pub, topic, 'during', 30)
      proxy.resume()
      await waitUntil(
        () => count(group, 'during') === 30,
        20_000,
        () => `during ${count(group, 'during')}/30`,
      )
      noDuplicates(group)
      assert.deepEqual(
        group.bodies().filter((b) => b.startsWith('during-')),
        Array.from({ length: 30 }, (_, i) => `during-${i}`),
        'in order',
      )
    } finally {
      proxy.resume()
      await pub.close()
      await subBroker.close()
    }
  })
})

describe('broker faults: amqp connection cut', { skip: amqp.skip }, () => {
  let proxy: TcpProxy
  const queuePrefix = `test-faults-${randomUUID().slice(0, 8)}`
  const make = (address: string) =>
    new AmqpBroker({ address, logger, queuePrefix, groupQueueArguments: { 'x-expires': 60_000 } })
  before(async () => {
    proxy = await TcpProxy.start(new URL(amqp.address as string).host)
  })
  after(async () => {
    await settleProxy()
    await proxy.close()
  })

  test('amqp: subscriptions come back after the connection is cut; the group loses nothing', async () => {
    const direct = new URL(amqp.address as string)
    const proxied = new URL(amqp.address as string)
    proxied.host = proxy.address
    const pub = make(direct.toString())
    const subBroker = make(proxied.toString())
    try {
      const topic = `faults.${randomUUID().slice(0, 8)}`
      const plain = await collect(subBroker, topic)
      const group = await collect(subBroker, topic, { queue: 'workers' })
      await publishMany(pub, topic, 'before', 20)
      await plain.waitFor(20)
      await waitUntil(() => count(group, 'before') === 20)
      proxy.cut()
      await publishMany(pub, topic, 'during', 20)
      await untilFlowing(pub, topic, [plain, group])
      await publishMany(pub, topic, 'after', 20)
      const unique = (c: Collector, label: string) =>
        new Set(c.bodies().filter((b) => b.startsWith(`${label}-`))).size
      await waitUntil(
        () =>
          unique(plain, 'after') === 20 && unique(group, 'after') === 20 && unique(group, 'during') === 20,
        20_000,
        () =>
          `plain after ${unique(plain, 'after')}, group during ${unique(group, 'during')} after ${unique(group, 'after')}`,
      )
      // The group's durable queue kept what was published while it was cut off (at least once).
      assert.equal(unique(group, 'during'), 20)
      assert.equal(unique(plain, 'before'), 20)
    } finally {
      await pub.close()
      await subBroker.close()
    }
  })
})
