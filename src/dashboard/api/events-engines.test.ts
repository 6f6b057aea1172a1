import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, test } from 'node:test'
import { api } from '../../../test/support/dashboard/http.js'
import { waitFor } from '../../events/conformance-kit.js'
import type { Events } from '../../events/events.js'
import { inspectorOf, REPLAYED_FROM } from '../../events/inspector.js'
import { NatsEvents } from '../../events/nats.js'
import { RedisEvents } from '../../events/redis.js'
import { createLogger } from '../../logger/logger.js'
import { removeNatsStreams, removeRedisKeys } from '../../testing/cleanup.js'
import { testServer } from '../../testing/servers.js'
import { createDashboard } from './dashboard.js'
import type { EventView, GroupView, TopicView } from './types.js'

// The events page on the engines production runs: the dashboard finds their inspector as
// the platform does (inspectorOf) and lists, groups and replays through it.

interface Engine {
  name: string
  skip: string | false
  /** New events on a prefix of their own, and how to remove what they stored. */
  open(): { events: Events; cleanup: () => Promise<void> }
}

const nats = testServer('nats')
const redis = testServer('redis')
const logger = createLogger({ level: 'error' })

const engines: Engine[] = [
  {
    name: 'nats',
    skip: nats.skip,
    open() {
      const id = randomUUID().slice(0, 8)
      const events = new NatsEvents({
        address: nats.address,
        subjectPrefix: `test.${id}`,
        streamPrefix: `TEST_${id}_`,
        logger,
      })
      return { events, cleanup: () => removeNatsStreams(nats.address ?? '', `TEST_${id}_`) }
    },
  },
  {
    name: 'redis',
    skip: redis.skip,
    open() {
      const prefix = `test:dashboard:${randomUUID().slice(0, 8)}:`
      const events = new RedisEvents({ address: redis.address, prefix, logger })
      return { events, cleanup: () => removeRedisKeys(redis.address ?? '', prefix) }
    },
  },
]

/** The dashboard over `events` alone, on a port of its own. */
async function serve(events: Events, namespace: string): Promise<{ url: string; server: Server }> {
  const inspector = inspectorOf(events)
  assert.ok(inspector, `the ${events.name} events have no inspector`)
  const dashboard = createDashboard({ events: { events, inspector } }, { namespace })
  const server = createServer(async (req, res) => {
    if (!(await dashboard.handle(req, res))) {
      res.writeHead(404)
      res.end()
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

for (const engine of engines) {
  describe(`dashboard API: events on ${engine.name}`, { skip: engine.skip }, () => {
    test('topics list the topic with its group and its dead letters; a dead letter replays', async () => {
      const { events, cleanup } = engine.open()
      const namespace = `dash-${randomUUID().slice(0, 8)}`
      const { url, server } = await serve(events, namespace)
      const consumer = events.consume('emails', {
        namespace,
        group: 'mailer',
        ack: 'manual',
        retryLimit: 0,
        offset: 1,
      })
      try {
        const published = await api(url, 'POST', '/events/topics/emails/publish', {
          payload: { to: 'ada@example.com' },
        })
        assert.equal(published.status, 200, JSON.stringify(published.body))
        const sequence = (published.body as { sequence: number }).sequence
        const iterator = consumer[Symbol.asyncIterator]()
        const first = (await iterator.next()).value
        assert.ok(first)
        await first.nack('smtp down')

        const topics = async () =>
          ((await api(url, 'GET', '/events/topics')).body as { topics: TopicView[] }).topics
        await waitFor(
          async () => (await topics()).some((t) => t.topic === 'emails.dead'),
          5000,
          'the dead letters',
        )
        const listed = await topics()
        assert.deepEqual(
          listed.map((t) => [t.topic, t.events, t.dead]),
          [
            ['emails', 1, false],
            ['emails.dead', 1, true],
          ],
        )
        assert.equal(listed[0]?.lastSequence, sequence)
        assert.equal(typeof listed[0]?.lastTime, 'number')

        const mailer = async () =>
          (
            (await api(url, 'GET', '/events/topics/emails/groups')).body as { groups: GroupView[] }
          ).groups.find((g) => g.group === 'mailer')
        // Dead-lettering writes the letter, then acks the event: wait for the ack too.
        await waitFor(
          async () => (await mailer())?.pending === 0,
          5000,
          'the dead-lettered event to be acked',
        )
        assert.deepEqual(await mailer(), {
          group: 'mailer',
          position: sequence,
          pending: 0,
          lag: 0,
          retrying: 0,
          private: false,
        })

        const dead = (
          (await api(url, 'GET', '/events/topics/emails.dead/events')).body as { events: EventView[] }
        ).events
        assert.equal(dead.length, 1)
        const replayed = await api(url, 'POST', `/events/dead/emails.dead/${dead[0]?.sequence}/replay`, {})
        assert.equal(replayed.status, 200, JSON.stringify(replayed.body))
        assert.equal((replayed.body as { topic: string }).topic, 'emails')
        const again = (await iterator.next()).value
        assert.deepEqual(again?.payload, { to: 'ada@example.com' })
        assert.equal(again?.metadata[REPLAYED_FROM], `emails.dead#${dead[0]?.sequence}`)
        await again?.ack()

        assert.equal((await api(url, 'POST', `/events/dead/emails/${sequence}/replay`, {})).status, 400)
        assert.equal((await api(url, 'POST', '/events/dead/emails.dead/999999/replay', {})).status, 404)
        assert.deepEqual(
          ((await api(url, 'GET', '/events/topics/nothing/groups')).body as { groups: GroupView[] }).groups,
          [],
        )
      } finally {
        consumer.stop()
        server.closeAllConnections()
        server.close()
        await events.close()
        await cleanup()
      }
    })
  })
}
