import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { EventsConformanceOptions } from './conformance.js'
import { expectCode, reader, type SuiteContext, suiteContext, waitFor } from './conformance-kit.js'
import type { Events } from './events.js'
import { type EventsInspector, inspectorOf, REPLAYED_FROM, REPLAYED_ID } from './inspector.js'
import { DEAD_LETTER_KEYS } from './source.js'

function inspector(events: Events): EventsInspector {
  const found = inspectorOf(events)
  assert.ok(found, `${events.name} events have no inspector`)
  return found
}

/**
 * The behaviour every EventsInspector must show (topics, groups and their backlog, replay of
 * dead letters). Call it from the engine's `*.test.ts` beside `eventsConformance`.
 */
export function inspectorConformance(
  name: string,
  create: () => Promise<Events> | Events,
  options: EventsConformanceOptions = {},
): void {
  const ctx = suiteContext(create, options.cleanup)
  describe(`events inspector conformance: ${name}`, { skip: options.skip }, () => {
    topicsConformance(ctx)
    groupsConformance(ctx)
    replayConformance(ctx)
  })
}

function topicsConformance({ withEvents }: SuiteContext): void {
  test('topics: every topic of the namespace with its count and last sequence, no other namespace', () =>
    withEvents(async (events, { namespace, topic }) => {
      const other = `${topic}.other`
      await events.publish(topic, { n: 1 }, { namespace })
      await events.publish(topic, { n: 2 }, { namespace })
      const last = await events.publish(other, { n: 3 }, { namespace })
      await events.publish(topic, { n: 4 }, { namespace: `${namespace}-x` })
      const topics = await inspector(events).listTopics({ namespace })
      assert.deepEqual(
        topics.map((t) => [t.topic, t.events]),
        [
          [topic, 2],
          [other, 1],
        ].sort(),
      )
      const otherInfo = topics.find((t) => t.topic === other)
      assert.equal(otherInfo?.lastSequence, last.sequence)
      assert.ok(otherInfo?.lastStored instanceof Date)
      assert.deepEqual(await inspector(events).listTopics({ namespace: `${namespace}-none` }), [])
    }))

  test('bad names are a 400; an unknown topic has no groups', () =>
    withEvents(async (events, { namespace, topic }) => {
      const inspect = inspector(events)
      await expectCode(inspect.listTopics({ namespace: 'bad namespace!' }), 400)
      await expectCode(inspect.listGroups('bad topic', { namespace }), 400)
      assert.deepEqual(await inspect.listGroups(topic, { namespace }), [])
    }))
}

function groupsConformance({ withEvents }: SuiteContext): void {
  test('groups: position, pending, lag and retries follow deliveries, nacks and acks', () =>
    withEvents(async (events, { namespace, topic }) => {
      const stored: number[] = []
      for (let n = 1; n <= 3; n++) stored.push((await events.publish(topic, { n }, { namespace })).sequence)
      const last = stored[2] as number
      const inspect = inspector(events)
      const group = async (name: string) =>
        (await inspect.listGroups(topic, { namespace })).find((g) => g.group === name)
      const r = await reader(
        events.consume(topic, { namespace, group: 'billing', ack: 'manual', maxInFlight: 1, offset: 1 }),
      )
      const first = await r.next()
      assert.equal(first.attempt, 1)
      assert.deepEqual(await group('billing'), {
        group: 'billing',
        position: first.sequence,
        pending: 1,
        lag: 2,
        retrying: 0,
        private: false,
      })
      await first.nack('not yet')
      // A nacked event comes back promptly, but not necessarily before the next new one
      // (JetStream and Redis hand out the next event first): ack those until it is back.
      let highest = first.sequence
      let again = await r.next()
      while (again.id !== first.id) {
        highest = Math.max(highest, again.sequence)
        await again.ack()
        again = await r.next()
      }
      assert.equal(again.attempt, 2)
      const retried = await group('billing')
      assert.deepEqual([retried?.pending, retried?.retrying, retried?.position], [1, 1, highest])
      assert.equal(retried?.lag, stored.filter((s) => s > highest).length)
      await again.ack()
      while (highest < last) {
        const next = await r.next()
        highest = Math.max(highest, next.sequence)
        await next.ack()
      }
      await waitFor(
        async () => (await group('billing'))?.position === last,
        5000,
        'the group to reach the last event',
      )
      const done = await group('billing')
      assert.deepEqual([done?.pending, done?.lag, done?.retrying], [0, 0, 0])
      r.consumer.stop()
      const late = await reader(events.consume(topic, { namespace, group: 'audit' }))
      const audit = await group('audit')
      assert.deepEqual([audit?.position, audit?.lag, audit?.pending], [last, 0, 0])
      late.consumer.stop()
      const names = (await inspect.listGroups(topic, { namespace })).map((g) => g.group)
      assert.deepEqual(
        names.filter((n) => n === 'audit' || n === 'billing'),
        ['audit', 'billing'],
      )
    }))

  test('a consumer without a group shows as a private group while it runs', () =>
    withEvents(async (events, { namespace, topic }) => {
      const r = await reader(events.consume(topic, { namespace }))
      const groups = await inspector(events).listGroups(topic, { namespace })
      assert.equal(groups.length, 1)
      assert.equal(groups[0]?.private, true)
      r.consumer.stop()
    }))
}

function replayConformance({ withEvents }: SuiteContext): void {
  test('replay: a dead letter goes back to its topic with its payload and metadata, marked', () =>
    withEvents(async (events, { namespace, topic }) => {
      const dead = `${topic}.dead`
      const r = await reader(
        events.consume(topic, { namespace, group: 'mailer', ack: 'manual', retryLimit: 0, offset: 1 }),
      )
      const published = await events.publish(topic, { n: 7 }, { namespace, metadata: { who: 'alice' } })
      await (await r.next()).nack('smtp down')
      await waitFor(async () => (await events.read(dead, { namespace })).length === 1, 5000, 'a dead letter')
      const [letter] = await events.read(dead, { namespace })
      assert.match(letter?.metadata[DEAD_LETTER_KEYS.reason] ?? '', /smtp down/)
      const topics = (await inspector(events).listTopics({ namespace })).map((t) => t.topic)
      assert.ok(topics.includes(dead), `topics: ${topics}`)

      const replayed = await inspector(events).replayDeadLetter(dead, letter!.sequence, { namespace })
      assert.equal(replayed.topic, topic)
      const back = await r.next()
      assert.deepEqual(back.payload, { n: 7 })
      assert.equal(back.metadata[REPLAYED_ID], published.id)
      assert.equal(back.metadata.who, 'alice')
      assert.equal(back.metadata[REPLAYED_FROM], `${dead}#${letter!.sequence}`)
      assert.equal(back.metadata[DEAD_LETTER_KEYS.reason], undefined)
      await back.ack()
      // The dead letter stays where it was.
      assert.equal((await events.read(dead, { namespace })).length, 1)
    }))

  test('replay refuses what is not a dead letter (400), a missing event (404), bad input (400)', () =>
    withEvents(async (events, { namespace, topic }) => {
      const inspect = inspector(events)
      const plain = await events.publish(topic, { n: 1 }, { namespace })
      await expectCode(
        inspect.replayDeadLetter(topic, plain.sequence, { namespace }),
        400,
        /not a dead letter/,
      )
      await expectCode(inspect.replayDeadLetter(topic, plain.sequence + 100, { namespace }), 404)
      await expectCode(inspect.replayDeadLetter(topic, 0, { namespace }), 400)
      await expectCode(inspect.replayDeadLetter(topic, 1.5, { namespace }), 400)
      await expectCode(inspect.replayDeadLetter('bad topic', 1, { namespace }), 400)
      assert.equal((await events.read(topic, { namespace })).length, 1)
    }))
}
