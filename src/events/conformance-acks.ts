import assert from 'node:assert/strict'
import { test } from 'node:test'
import { numbers, publishMany, reader, type SuiteContext } from './conformance-kit.js'
import { DEAD_LETTER_KEYS } from './source.js'

/** Acknowledgements, redelivery, retry limits and dead letters. */
export function conformanceAcks({ withEvents }: SuiteContext): void {
  test('manual ack: an event not acked within ackWait is delivered again; once acked, never', () =>
    withEvents(async (events, { namespace, topic }) => {
      const r = await reader(events.consume(topic, { namespace, ack: 'manual', ackWait: 600, retryLimit: 5 }))
      const published = await events.publish(topic, { n: 1 }, { namespace })
      const first = await r.next()
      assert.deepEqual([first.id, first.attempt], [published.id, 1])
      const started = Date.now()
      const second = await r.next(10_000)
      assert.deepEqual([second.id, second.attempt], [published.id, 2])
      assert.ok(Date.now() - started >= 400, 'redelivered before ackWait')
      await second.ack()
      await first.ack()
      await r.quiet(1500)
    }))

  test('a resolved ack is final: a member that stops right after never gets the event again', () =>
    withEvents(async (events, { namespace, topic }) => {
      const options = { namespace, group: 'final', ack: 'manual', ackWait: 500, maxInFlight: 2 } as const
      await publishMany(events, topic, namespace, 2)
      const first = await reader(events.consume<{ n: number }>(topic, { ...options, offset: 0 }))
      const [acked, held] = await first.take(2)
      await acked?.ack()
      // Stops without settling the other (killed-consumer.test.ts kills the process instead).
      first.consumer.stop()
      const second = await reader(events.consume<{ n: number }>(topic, options))
      const again = await second.next()
      assert.equal(again.payload.n, held?.payload.n)
      assert.ok(again.attempt >= 2, `attempt ${again.attempt}`)
      await again.ack()
      await second.quiet(1200)
    }))

  test('auto ack: an event taken from the iterator is not delivered again', () =>
    withEvents(async (events, { namespace, topic }) => {
      const r = await reader(events.consume(topic, { namespace, ackWait: 300 }))
      await events.publish(topic, { n: 1 }, { namespace })
      assert.equal((await r.next()).attempt, 1)
      await r.quiet(1200)
    }))

  test('nack: the event comes back promptly with the next attempt number', () =>
    withEvents(async (events, { namespace, topic }) => {
      const r = await reader(events.consume(topic, { namespace, group: 'nackers', ack: 'manual' }))
      await events.publish(topic, { n: 1 }, { namespace })
      await events.publish(topic, { n: 2 }, { namespace })
      const first = await r.next()
      await first.nack()
      // ackWait is the default 30 s: anything within a few seconds is the nack at work.
      const seen = await r.take(2, 5000)
      const again = seen.find((e) => e.id === first.id)
      assert.ok(again, 'the nacked event did not come back')
      assert.equal(again.attempt, 2)
      for (const e of seen) await e.ack()
      await first.ack() // settled already: does nothing
      await r.quiet(300)
    }))

  test('after retryLimit nacks the event goes to the dead-letter topic with the reason', () =>
    withEvents(async (events, { namespace, topic }) => {
      const dead = await reader(events.consume(`${topic}.dead`, { namespace, offset: 0 }))
      const r = await reader(events.consume(topic, { namespace, group: 'g1', ack: 'manual', retryLimit: 1 }))
      const published = await events.publish(topic, { n: 7 }, { namespace, metadata: { trace: 'x1' } })
      const one = await r.next()
      await one.nack('first try')
      const two = await r.next()
      assert.equal(two.attempt, 2)
      await two.nack('database down')
      const letter = await dead.next()
      assert.equal(letter.id, published.id)
      assert.deepEqual(letter.payload, { n: 7 })
      assert.equal(letter.metadata.trace, 'x1')
      assert.match(letter.metadata[DEAD_LETTER_KEYS.reason] ?? '', /nacked on delivery 2 of 2: database down/)
      assert.equal(letter.metadata[DEAD_LETTER_KEYS.topic], topic)
      assert.equal(letter.metadata[DEAD_LETTER_KEYS.group], 'g1')
      assert.equal(letter.metadata[DEAD_LETTER_KEYS.sequence], String(published.sequence))
      assert.equal(letter.metadata[DEAD_LETTER_KEYS.attempts], '2')
      await r.quiet(500)
    }))

  test('an event never acked goes to the dead-letter topic after its last ackWait', () =>
    withEvents(async (events, { namespace, topic }) => {
      const target = `${topic}.failures`
      const dead = await reader(events.consume(target, { namespace, offset: 0 }))
      const options = { namespace, ack: 'manual', ackWait: 500, retryLimit: 0, deadLetter: target } as const
      const r = await reader(events.consume(topic, options))
      const published = await events.publish(topic, { n: 1 }, { namespace })
      assert.equal((await r.next()).attempt, 1)
      const letter = await dead.next(10_000)
      assert.equal(letter.id, published.id)
      assert.match(letter.metadata[DEAD_LETTER_KEYS.reason] ?? '', /not acknowledged within 500 ms/)
      await r.quiet(300)
      assert.deepEqual(await events.read(`${topic}.dead`, { namespace }), [])
    }))

  test('deadLetter: false drops the event once out of retries', () =>
    withEvents(async (events, { namespace, topic }) => {
      const options = { namespace, ack: 'manual', retryLimit: 0, deadLetter: false } as const
      const r = await reader(events.consume(topic, options))
      await events.publish(topic, { n: 1 }, { namespace })
      await (await r.next()).nack()
      await events.publish(topic, { n: 2 }, { namespace })
      const next = await r.next()
      assert.deepEqual(numbers([next]), [2])
      await next.ack()
      await r.quiet(300)
      assert.deepEqual(await events.read(`${topic}.dead`, { namespace }), [])
    }))

  test('an event whose payload cannot be decoded goes to the dead-letter topic, not to the consumer', () =>
    withEvents(async (events, { namespace, topic }) => {
      const dead = await reader(events.consume(`${topic}.dead`, { namespace, offset: 0 }))
      const r = await reader(events.consume(topic, { namespace, group: 'strict' }))
      const bad = await events.publish(topic, new TextEncoder().encode('{"oops'), {
        namespace,
        contentType: 'application/json',
      })
      await events.publish(topic, { n: 2 }, { namespace })
      assert.deepEqual(numbers([await r.next()]), [2])
      const letter = await dead.next()
      assert.equal(letter.id, bad.id)
      assert.match(letter.metadata[DEAD_LETTER_KEYS.reason] ?? '', /undecodable application\/json payload/)
      assert.equal(letter.metadata[DEAD_LETTER_KEYS.contentType], 'application/json')
      assert.equal(letter.contentType, 'application/octet-stream')
      assert.equal(Buffer.from(letter.raw).toString(), '{"oops')
      const [stored] = await events.read(topic, { namespace, limit: 1 })
      assert.equal(stored?.payload, undefined)
      assert.match(stored?.decodeError ?? '', /undecodable/)
      await r.quiet(300)
    }))
}
