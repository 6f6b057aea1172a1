import assert from 'node:assert/strict'
import { test } from 'node:test'
import { numbers, publishMany, type Reader, reader, type SuiteContext, sleep } from './conformance-kit.js'
import type { ReceivedEvent } from './events.js'

/** Offsets, groups sharing and not sharing, resuming, and volume. */
export function conformanceGroups({ withEvents }: SuiteContext): void {
  test('a new consumer starts with the events published from now on', () =>
    withEvents(async (events, { namespace, topic }) => {
      await events.publish(topic, { n: 0 }, { namespace })
      const r = await reader(events.consume(topic, { namespace }))
      await events.publish(topic, { n: 1 }, { namespace })
      assert.deepEqual(numbers([await r.next()]), [1])
      await r.quiet(200)
    }))

  test('offset by sequence and by time', () =>
    withEvents(async (events, { namespace, topic }) => {
      const sequences = []
      for (let n = 0; n < 3; n++) sequences.push((await events.publish(topic, { n }, { namespace })).sequence)
      await sleep(30)
      const time = new Date()
      await sleep(30)
      for (let n = 3; n < 5; n++) await events.publish(topic, { n }, { namespace })
      const bySequence = await reader(events.consume(topic, { namespace, offset: sequences[1] }))
      assert.deepEqual(numbers(await bySequence.take(4)), [1, 2, 3, 4])
      const byTime = await reader(events.consume(topic, { namespace, offset: time }))
      assert.deepEqual(numbers(await byTime.take(2)), [3, 4])
      const fromStart = await reader(events.consume(topic, { namespace, offset: 0 }))
      assert.deepEqual(numbers(await fromStart.take(5)), [0, 1, 2, 3, 4])
      await events.publish(topic, { n: 5 }, { namespace })
      for (const r of [bySequence, byTime, fromStart]) assert.deepEqual(numbers([await r.next()]), [5])
      const fromFuture = await reader(
        events.consume(topic, { namespace, offset: new Date(Date.now() + 60_000) }),
      )
      await events.publish(topic, { n: 6 }, { namespace })
      // A start in the future is simply "what comes next": nothing is skipped.
      assert.deepEqual(numbers([await fromFuture.next()]), [6])
    }))

  test('members of a group share the events: each exactly once', () =>
    withEvents(async (events, { namespace, topic }) => {
      const options = { namespace, group: 'workers', ack: 'manual', maxInFlight: 2 } as const
      const members = [events.consume(topic, options), events.consume(topic, options)]
      await Promise.all(members.map((m) => m.ready))
      const got: number[][] = [[], []]
      const done = members.map(async (member, i) => {
        for await (const event of member) {
          got[i]!.push((event.payload as { n: number }).n)
          await sleep(5)
          await event.ack()
        }
      })
      await publishMany(events, topic, namespace, 40)
      const until = Date.now() + 15_000
      while (got[0]!.length + got[1]!.length < 40 && Date.now() < until) await sleep(20)
      await sleep(300)
      for (const m of members) m.stop()
      await Promise.all(done)
      const all = [...got[0]!, ...got[1]!].sort((a, b) => a - b)
      assert.deepEqual(
        all,
        Array.from({ length: 40 }, (_, i) => i),
      )
      assert.ok(
        got[0]!.length > 0 && got[1]!.length > 0,
        `one member got nothing: ${got[0]!.length}/${got[1]!.length}`,
      )
    }))

  test('every group, and every consumer without a group, gets every event', () =>
    withEvents(async (events, { namespace, topic }) => {
      const readers: Reader[] = []
      for (const group of ['billing', 'audit', undefined, undefined])
        readers.push(await reader(events.consume(topic, { namespace, group })))
      await publishMany(events, topic, namespace, 10)
      for (const r of readers)
        assert.deepEqual(
          numbers(await r.take(10)).sort((a, b) => a - b),
          [...Array(10).keys()],
        )
      for (const r of readers) await r.quiet(100)
    }))

  test('a group keeps its position: a member that comes back resumes after the last ack', () =>
    withEvents(async (events, { namespace, topic }) => {
      const first = await reader(
        events.consume(topic, { namespace, group: 'resume', offset: 0, ack: 'manual' }),
      )
      const sequences = []
      for (let n = 0; n < 5; n++) sequences.push((await events.publish(topic, { n }, { namespace })).sequence)
      for (const event of await first.take(3)) await event.ack()
      first.consumer.stop()
      await sleep(50)
      // The offset is ignored: the group exists.
      const again = await reader(
        events.consume(topic, { namespace, group: 'resume', offset: 0, ack: 'manual' }),
      )
      const rest = await again.take(2)
      // In any order: NATS hands back what the stopped member had fetched on a timer, not in sequence order.
      assert.deepEqual(numbers(rest).sort(), [3, 4])
      for (const event of rest) await event.ack()
      await again.quiet(200)
    }))

  test('events fetched ahead but not taken go back to the group when a member stops', () =>
    withEvents(async (events, { namespace, topic }) => {
      const options = { namespace, group: 'handback', offset: 0, ack: 'manual', maxInFlight: 10 } as const
      await publishMany(events, topic, namespace, 6)
      const greedy = await reader(events.consume(topic, options))
      const taken = await greedy.next()
      await taken.ack()
      await sleep(300)
      greedy.consumer.stop()
      // ackWait is the default 30 s: getting them now shows they were given back.
      const next = await reader(events.consume(topic, options))
      const rest: ReceivedEvent[] = await next.take(5, 8000)
      assert.deepEqual(
        numbers(rest).sort((a, b) => a - b),
        [1, 2, 3, 4, 5],
      )
      for (const event of rest) await event.ack()
    }))

  test('2000 events through a group of two: each delivered exactly once', () =>
    withEvents(async (events, { namespace, topic }) => {
      const options = { namespace, group: 'bulk' }
      const members = [events.consume(topic, options), events.consume(topic, options)]
      await Promise.all(members.map((m) => m.ready))
      const seen = new Map<number, number>()
      let total = 0
      const loops = members.map(async (member) => {
        for await (const event of member) {
          const n = (event.payload as { n: number }).n
          seen.set(n, (seen.get(n) ?? 0) + 1)
          total++
        }
      })
      await publishMany(events, topic, namespace, 2000)
      const until = Date.now() + 30_000
      while (total < 2000 && Date.now() < until) await sleep(20)
      await sleep(300)
      for (const m of members) m.stop()
      await Promise.all(loops)
      assert.equal(seen.size, 2000)
      assert.equal(total, 2000, 'duplicates were delivered')
    }))
}
