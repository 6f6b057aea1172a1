import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { conformanceAcks } from './conformance-acks.js'
import { conformanceGroups } from './conformance-groups.js'
import { expectCode, type SuiteContext, sleep, suiteContext } from './conformance-kit.js'
import type { Events } from './events.js'

/** Options of {@link eventsConformance}. */
export interface EventsConformanceOptions {
  /** Removes what an instance left on its server (streams, keys), after it is closed. */
  cleanup?: (events: Events) => Promise<void>
  /** Skip the suite with this reason (e.g. no test server): pass `testServer(name).skip`. */
  skip?: string | false
}

/**
 * The behaviour every Events implementation must show, as node:test tests. Call it from a
 * `*.test.ts` file with a factory; each test gets a new instance, a random namespace and
 * topic, and closes (and cleans up) the instance when done.
 */
export function eventsConformance(
  name: string,
  create: () => Promise<Events> | Events,
  options: EventsConformanceOptions = {},
): void {
  const ctx = suiteContext(create, options.cleanup)
  describe(`events conformance: ${name}`, { skip: options.skip }, () => {
    publishConformance(ctx)
    readConformance(ctx)
    conformanceGroups(ctx)
    conformanceAcks(ctx)
    closeConformance(ctx)
  })
}

function publishConformance({ withEvents }: SuiteContext): void {
  test('publish then consume: payload, metadata, timestamp and order intact', () =>
    withEvents(async (events, { namespace, topic }) => {
      const at = new Date('2024-05-06T07:08:09.010Z')
      const metadata = { who: 'alice', 'Mixed-Case': 'yes', note: 'two\nlines, ünïcode ✓' }
      const first = await events.publish(topic, { n: 1, tags: ['a'] }, { namespace, metadata })
      const second = await events.publish(topic, 'two', { namespace, timestamp: at })
      const bytes = await events.publish(topic, new Uint8Array([0, 1, 255]), { namespace })
      assert.match(first.id, /^[0-9a-f-]{36}$/)
      assert.equal(first.topic, topic)
      assert.deepEqual(first.metadata, metadata)
      assert.ok(second.sequence > first.sequence && bytes.sequence > second.sequence)
      assert.deepEqual(second.timestamp, at)
      const consumer = events.consume(topic, { namespace, offset: first.sequence })
      const got = []
      for await (const event of consumer) {
        got.push(event)
        if (got.length === 3) break
      }
      const [a, b, c] = got
      assert.ok(a && b && c)
      assert.deepEqual(
        { id: a.id, seq: a.sequence, payload: a.payload, md: a.metadata, attempt: a.attempt },
        {
          id: first.id,
          seq: first.sequence,
          payload: { n: 1, tags: ['a'] },
          md: metadata,
          attempt: 1,
        },
      )
      assert.equal(a.contentType, 'application/json')
      assert.equal(Buffer.from(a.raw).toString(), '{"n":1,"tags":["a"]}')
      assert.ok(Math.abs(a.timestamp.getTime() - first.timestamp.getTime()) < 1)
      assert.deepEqual([b.payload, b.timestamp, b.metadata], ['two', at, {}])
      assert.equal(c.contentType, 'application/octet-stream')
      assert.deepEqual([...(c.payload as Uint8Array)], [0, 1, 255])
      assert.deepEqual([...c.raw], [0, 1, 255])
    }))

  test('bad input is a 400 and the instance keeps working', () =>
    withEvents(async (events, { namespace, topic }) => {
      await expectCode(events.publish('', {}), 400, /topic is required/)
      await expectCode(events.publish('has space', {}), 400, /bad topic/)
      await expectCode(events.publish('a..b', {}), 400, /bad topic/)
      await expectCode(events.publish(topic, undefined), 400, /JSON/)
      await expectCode(events.publish(topic, { big: 1n }), 400, /JSON/)
      await expectCode(events.publish(topic, {}, { namespace: 'a.b' }), 400, /namespace/)
      await expectCode(
        events.publish(topic, {}, { metadata: { n: 1 } as unknown as Record<string, string> }),
        400,
        /metadata n/,
      )
      await expectCode(events.publish(topic, {}, { timestamp: new Date('nope') }), 400, /timestamp/)
      await expectCode(() => events.consume(''), 400, /topic/)
      await expectCode(() => events.consume(topic, { group: 'a.b' }), 400, /group/)
      await expectCode(() => events.consume(topic, { ackWait: 0 }), 400, /ackWait/)
      await expectCode(() => events.consume(topic, { retryLimit: -1 }), 400, /retryLimit/)
      await expectCode(() => events.consume(topic, { offset: -1 }), 400, /offset/)
      await expectCode(() => events.consume(topic, { deadLetter: topic }), 400, /deadLetter/)
      await expectCode(events.read(topic, { limit: 0 }), 400, /limit/)
      const record = await events.publish(topic, { ok: true }, { namespace })
      assert.deepEqual(
        (await events.read(topic, { namespace })).map((e) => e.id),
        [record.id],
      )
    }))

  test('namespaces are isolated; calls without one use the default', () =>
    withEvents(async (events, { namespace, topic }) => {
      await events.publish(topic, { in: 'a' }, { namespace: `${namespace}-a` })
      await events.publish(topic, { in: 'default' })
      assert.deepEqual(
        (await events.read(topic, { namespace: `${namespace}-a` })).map((e) => e.payload),
        [{ in: 'a' }],
      )
      assert.deepEqual(await events.read(topic, { namespace: `${namespace}-b` }), [])
      const defaults = await events.read(topic, { namespace: 'micro' })
      assert.deepEqual(
        defaults.map((e) => e.payload),
        [{ in: 'default' }],
      )
    }))
}

function readConformance({ withEvents }: SuiteContext): void {
  test('read replays a stream: from the start, from a sequence, since a time, with a limit', () =>
    withEvents(async (events, { namespace, topic }) => {
      const records = []
      for (let n = 0; n < 6; n++) records.push(await events.publish(topic, { n }, { namespace }))
      await sleep(30)
      const since = new Date()
      await sleep(30)
      for (let n = 6; n < 9; n++) records.push(await events.publish(topic, { n }, { namespace }))
      const payloads = (list: { payload: unknown }[]) => list.map((e) => (e.payload as { n: number }).n)
      assert.deepEqual(payloads(await events.read(topic, { namespace })), [0, 1, 2, 3, 4, 5, 6, 7, 8])
      assert.deepEqual(payloads(await events.read(topic, { namespace, limit: 3 })), [0, 1, 2])
      const fourth = records[4]!.sequence
      assert.deepEqual(payloads(await events.read(topic, { namespace, offset: fourth, limit: 2 })), [4, 5])
      assert.deepEqual(payloads(await events.read(topic, { namespace, since })), [6, 7, 8])
      assert.deepEqual(payloads(await events.read(topic, { namespace, since, limit: 1 })), [6])
      const after = records.at(-1)!.sequence + 1
      assert.deepEqual(await events.read(topic, { namespace, offset: after }), [])
      assert.deepEqual(await events.read(`${topic}.none`, { namespace }), [])
      const [first] = await events.read(topic, { namespace, limit: 1 })
      assert.equal(first?.id, records[0]!.id)
      assert.deepEqual(first?.timestamp, records[0]!.timestamp)
    }))
}

function closeConformance({ withEvents }: SuiteContext): void {
  test('stop() ends the iteration, as do break and the signal', () =>
    withEvents(async (events, { namespace, topic }) => {
      const consumer = events.consume(topic, { namespace })
      await consumer.ready
      const loop = (async () => {
        let count = 0
        for await (const _ of consumer) count++
        return count
      })()
      await events.publish(topic, { n: 1 }, { namespace })
      await sleep(50)
      consumer.stop()
      assert.ok((await loop) <= 1)
      const controller = new AbortController()
      const aborted = events.consume(topic, { namespace, signal: controller.signal })
      const iterating = (async () => {
        for await (const _ of aborted) {
        }
        return 'ended'
      })()
      controller.abort()
      assert.equal(await iterating, 'ended')
      const stopped = events.consume(topic, { namespace, signal: AbortSignal.abort() })
      assert.equal((await stopped[Symbol.asyncIterator]().next()).done, true)
    }))

  test('after close(): consumers end, and every call fails with a 503', () =>
    withEvents(async (events, { namespace, topic }) => {
      const consumer = events.consume(topic, { namespace })
      await consumer.ready
      const ended = (async () => {
        for await (const _ of consumer) {
        }
        return true
      })()
      await events.close()
      assert.equal(await ended, true)
      await events.close()
      await expectCode(events.publish(topic, {}, { namespace }), 503, /closed/)
      await expectCode(events.read(topic, { namespace }), 503, /closed/)
      await expectCode(() => events.consume(topic, { namespace }), 503, /closed/)
    }))
}
