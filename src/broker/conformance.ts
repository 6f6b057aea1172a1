import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import type { Broker } from './broker.js'
import { groupConformance } from './conformance-groups.js'
import {
  type BrokerConformanceOptions,
  bytes,
  collect,
  type Kit,
  newKit,
  text,
  waitUntil,
} from './conformance-kit.js'
import { retryConformance } from './conformance-retry.js'

export type { BrokerConformanceOptions } from './conformance-kit.js'

/**
 * The behaviour every Broker must show, as node:test tests. `create` must return a new
 * broker on the same engine each time (brokers it returns see each other's messages); each
 * test uses its own topics and closes the brokers it made.
 */
export function brokerConformance(
  name: string,
  create: () => Promise<Broker> | Broker,
  options: BrokerConformanceOptions = {},
): void {
  const it = (title: string, fn: (kit: Kit) => Promise<void>) =>
    test(title, async () => {
      const kit = newKit(create, options)
      try {
        await fn(kit)
      } finally {
        await kit.done()
      }
    })
  describe(`broker conformance: ${name}`, () => {
    if (options.cleanup) after(options.cleanup)
    deliveryConformance(it)
    groupConformance(it)
    retryConformance(it)
    lifecycleConformance(it)
  })
}

type It = (title: string, fn: (kit: Kit) => Promise<void>) => void

function deliveryConformance(it: It): void {
  it('delivers body bytes and headers intact; micro-topic and micro-id are set', async (kit) => {
    const [pub, subBroker] = [await kit.broker(), await kit.broker()]
    const topic = kit.topic('headers')
    const got = await collect(subBroker, topic)
    const body = Uint8Array.from([0, 1, 2, 0xff, 0xfe, 10, 13])
    const headers = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'micro-caller': 'conformance',
      'content-type': 'application/octet-stream',
      'X-Custom': 'Value With Caps, commas; and = signs',
    }
    await pub.publish(topic, { headers, body })
    await pub.publish(topic, { headers: { 'micro-id': 'my-own-id' }, body: bytes('second') })
    await got.waitFor(2)
    const [first, second] = got.received
    assert.ok(first && second)
    assert.deepEqual([...first.body], [...body])
    assert.equal(first.topic, topic)
    assert.equal(first.queue, undefined)
    assert.equal(first.headers.traceparent, headers.traceparent)
    assert.equal(first.headers['micro-caller'], 'conformance')
    assert.equal(first.headers['content-type'], 'application/octet-stream')
    assert.equal(first.headers['x-custom'], headers['X-Custom'], 'keys arrive lower-cased, values unchanged')
    assert.equal(first.headers['micro-topic'], topic)
    assert.match(first.id, /^[0-9a-f-]{36}$/)
    assert.equal(first.headers['micro-id'], first.id)
    assert.equal(second.id, 'my-own-id')
    assert.equal(text(second.body), 'second')
  })

  it('an empty body and no headers are fine', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('empty')
    const got = await collect(broker, topic)
    await broker.publish(topic, { body: new Uint8Array(0) })
    await got.waitFor(1)
    assert.equal(got.received[0]?.body.length, 0)
  })

  it('broadcast: every plain subscriber gets every message, once', async (kit) => {
    const [pub, a, b] = [await kit.broker(), await kit.broker(), await kit.broker()]
    const topic = kit.topic('broadcast')
    const first = await collect(a, topic)
    const second = await collect(b, topic)
    const third = await collect(b, topic)
    for (let i = 0; i < 5; i++) await pub.publish(topic, { body: bytes(`m${i}`) })
    for (const c of [first, second, third]) await c.waitFor(5)
    await kit.quiet()
    const expected = ['m0', 'm1', 'm2', 'm3', 'm4']
    for (const c of [first, second, third]) assert.deepEqual(c.bodies().sort(), expected)
  })

  it('a message goes only to its topic', async (kit) => {
    const broker = await kit.broker()
    const [t1, t2] = [kit.topic('only'), kit.topic('only')]
    const one = await collect(broker, t1)
    const two = await collect(broker, t2)
    await broker.publish(t1, { body: bytes('for one') })
    await broker.publish(t2, { body: bytes('for two') })
    await one.waitFor(1)
    await two.waitFor(1)
    await kit.quiet()
    assert.deepEqual(one.bodies(), ['for one'])
    assert.deepEqual(two.bodies(), ['for two'])
  })

  it('a handler that throws does not stop the subscription', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('throws')
    let calls = 0
    const got = await collect(broker, topic, {}, () => {
      calls++
      if (calls === 1) throw new Error('handler failed on purpose')
    })
    await broker.publish(topic, { body: bytes('boom') })
    await broker.publish(topic, { body: bytes('next') })
    await got.waitFor(2)
    assert.deepEqual(got.bodies(), ['boom', 'next'])
  })

  it('many messages arrive complete', async (kit) => {
    const [pub, subBroker] = [await kit.broker(), await kit.broker()]
    const topic = kit.topic('many')
    const seen = new Set<string>()
    let count = 0
    await subBroker.subscribe(topic, (d) => {
      count++
      seen.add(text(d.body))
    })
    const n = kit.options.many
    for (let i = 0; i < n; i += 100) {
      const batch: Promise<void>[] = []
      for (let j = i; j < Math.min(n, i + 100); j++) batch.push(pub.publish(topic, { body: bytes(`${j}`) }))
      await Promise.all(batch)
    }
    await waitUntil(
      () => count >= n,
      60_000,
      () => `${count}/${n} messages`,
    )
    await kit.quiet()
    assert.equal(count, n, 'no duplicates')
    assert.equal(seen.size, n, 'every message')
  })
}

function lifecycleConformance(it: It): void {
  it('unsubscribe() and an aborted signal stop delivery', async (kit) => {
    const [pub, subBroker] = [await kit.broker(), await kit.broker()]
    const topic = kit.topic('unsub')
    const controller = new AbortController()
    const byCall = await collect(subBroker, topic)
    const bySignal = await collect(subBroker, topic, { signal: controller.signal })
    const witness = await collect(subBroker, topic)
    await pub.publish(topic, { body: bytes('before') })
    await Promise.all([byCall.waitFor(1), bySignal.waitFor(1), witness.waitFor(1)])
    await byCall.sub.unsubscribe()
    await byCall.sub.unsubscribe()
    controller.abort()
    await pub.publish(topic, { body: bytes('after') })
    await witness.waitFor(2)
    await kit.quiet()
    assert.deepEqual(byCall.bodies(), ['before'])
    assert.deepEqual(bySignal.bodies(), ['before'])
  })

  it('manual ack: ack() and nack() settle once; a nacked message is delivered again', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('ack')
    const got = await collect(broker, topic, { autoAck: false }, async (d) => {
      if (!d.redelivered && text(d.body) === 'nack me') {
        await d.nack()
        await d.nack()
        await d.ack()
        return
      }
      await d.ack()
      await d.ack()
      await d.nack()
    })
    await broker.publish(topic, { body: bytes('ack me') })
    await broker.publish(topic, { body: bytes('nack me') })
    await got.waitFor(3)
    await kit.quiet()
    assert.equal(got.received.length, 3, 'settled messages are not delivered again')
    const again = got.received.filter((d) => text(d.body) === 'nack me')
    assert.deepEqual(
      again.map((d) => [d.redelivered, d.attempt]),
      [
        [false, 1],
        [true, 2],
      ],
    )
    assert.equal(again[0]?.id, again[1]?.id, 'the redelivery is the same message')
  })

  it('publish with no subscriber is fine', async (kit) => {
    const broker = await kit.broker()
    await broker.publish(kit.topic('nobody'), { body: bytes('into the void') })
  })

  it('bad topics and queue names are refused with a 400', async (kit) => {
    const broker = await kit.broker()
    for (const topic of ['', 'a b', 'orders.*', 'orders.>', 'a.#', 'a..b', '.a', 'a+b']) {
      await assert.rejects(broker.publish(topic, { body: bytes('x') }), isCode(400), topic)
      await assert.rejects(
        broker.subscribe(topic, () => {}),
        isCode(400),
        topic,
      )
    }
    await assert.rejects(
      broker.subscribe(kit.topic(), () => {}, { queue: 'a b' }),
      isCode(400),
    )
    await assert.rejects(
      broker.subscribe(kit.topic(), () => {}, { queue: '' }),
      isCode(400),
    )
  })

  it('an already aborted signal rejects subscribe with a 499', async (kit) => {
    const broker = await kit.broker()
    await assert.rejects(
      broker.subscribe(kit.topic(), () => {}, { signal: AbortSignal.abort() }),
      isCode(499),
    )
  })

  it('after close(), publish and subscribe fail with a clear 503; close() twice is fine', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('closed')
    await broker.subscribe(topic, () => {})
    await broker.close()
    await broker.close()
    const closed = (e: unknown) => isCode(503)(e) && /closed/.test((e as MicroError).detail)
    await assert.rejects(broker.publish(topic, { body: bytes('late') }), closed)
    await assert.rejects(
      broker.subscribe(topic, () => {}),
      closed,
    )
    await assert.rejects(broker.connect(), closed)
  })
}

function isCode(code: number) {
  return (e: unknown) => e instanceof MicroError && e.code === code
}
