import assert from 'node:assert/strict'
import { MicroError } from '../errors/errors.js'
import { DEAD_REASON_HEADER, DEAD_TOPIC_HEADER } from './broker.js'
import { bytes, collect, type Kit, text, waitUntil } from './conformance-kit.js'

type It = (title: string, fn: (kit: Kit) => Promise<void>) => void

/** nack on every engine: redelivery up to the retry limit, then the dead-letter topic; never a quiet drop. */
export function retryConformance(it: It): void {
  it('nack redelivers up to retryLimit, then the message goes to <topic>.dead with the reason', async (kit) => {
    const [pub, sub] = [await kit.broker(), await kit.broker()]
    const topic = kit.topic('retry')
    const dead = await collect(sub, `${topic}.dead`)
    const got = await collect(sub, topic, { autoAck: false, retryLimit: 2 }, (d) => d.nack())
    await pub.publish(topic, { headers: { 'x-trace': 't1' }, body: bytes('poison') })
    await dead.waitFor(1)
    await kit.quiet()
    assert.deepEqual(
      got.received.map((d) => [d.attempt, d.redelivered]),
      [
        [1, false],
        [2, true],
        [3, true],
      ],
    )
    assert.equal(new Set(got.received.map((d) => d.id)).size, 1, 'every delivery is the same message')
    const [letter] = dead.received
    assert.ok(letter)
    assert.equal(dead.received.length, 1)
    assert.equal(text(letter.body), 'poison')
    assert.equal(letter.id, got.received[0]?.id)
    assert.equal(letter.headers['x-trace'], 't1')
    assert.equal(letter.headers[DEAD_TOPIC_HEADER], topic)
    assert.match(letter.headers[DEAD_REASON_HEADER] ?? '', /nacked on delivery 3 of 3/)
  })

  it('nack({ requeue: false }) sends the message to the dead-letter topic at once', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('reject')
    const target = kit.topic('rejects')
    const dead = await collect(broker, target)
    const got = await collect(broker, topic, { autoAck: false, deadLetter: target }, (d) =>
      d.nack({ requeue: false }),
    )
    await broker.publish(topic, { body: bytes('no thanks') })
    await dead.waitFor(1)
    await kit.quiet()
    assert.equal(got.received.length, 1)
    assert.equal(text(dead.received[0]?.body ?? new Uint8Array()), 'no thanks')
    assert.match(dead.received[0]?.headers[DEAD_REASON_HEADER] ?? '', /nacked without requeue on delivery 1/)
  })

  it('a message nacked in a queue group comes back to the group, counted', async (kit) => {
    const [pub, a, b] = [await kit.broker(), await kit.broker(), await kit.broker()]
    const topic = kit.topic('group-retry')
    const seen: Array<[string, number]> = []
    const handler = (d: import('./broker.js').Delivery) => {
      seen.push([text(d.body), d.attempt])
      return d.attempt === 1 ? d.nack() : d.ack()
    }
    await a.subscribe(topic, handler, { queue: 'retriers', autoAck: false })
    await b.subscribe(topic, handler, { queue: 'retriers', autoAck: false })
    await pub.publish(topic, { body: bytes('once more') })
    await waitUntil(
      () => seen.length >= 2,
      15_000,
      () => `${seen.length}/2 deliveries`,
    )
    await kit.quiet()
    assert.deepEqual(seen, [
      ['once more', 1],
      ['once more', 2],
    ])
  })

  it('with deadLetter: false a message out of retries is dropped (logged), not redelivered', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('drop')
    const got = await collect(broker, topic, { autoAck: false, retryLimit: 0, deadLetter: false }, (d) =>
      d.nack(),
    )
    await broker.publish(topic, { body: bytes('gone') })
    await got.waitFor(1)
    await kit.quiet()
    assert.equal(got.received.length, 1)
  })

  it('a bad retryLimit or deadLetter is refused with a 400', async (kit) => {
    const broker = await kit.broker()
    const topic = kit.topic('bad-retry')
    const is400 = (e: unknown) => e instanceof MicroError && e.code === 400
    for (const retryLimit of [-1, 1.5, Number.NaN])
      await assert.rejects(
        broker.subscribe(topic, () => {}, { retryLimit }),
        is400,
        String(retryLimit),
      )
    for (const deadLetter of [topic, 'a b', 'x.*'])
      await assert.rejects(
        broker.subscribe(topic, () => {}, { deadLetter }),
        is400,
        deadLetter,
      )
  })
}
