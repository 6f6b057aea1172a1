import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { EngineServer, engineSkip } from '../../test/support/engine-server.js'
import { MicroError } from '../errors/errors.js'
import { publishMany, reader, sleep, waitFor } from './conformance-kit.js'
import type { ReceivedEvent } from './events.js'
import { fixtureEvents } from './fixtures/consumer.js'
import type { GroupLostError } from './loss.js'

// These stop and restart an engine: each runs a server of its own on a free port.

describe('events (nats): the server restarts while a group consumes', { skip: engineSkip('nats') }, () => {
  let server: EngineServer
  before(async () => {
    server = await EngineServer.start('nats')
  })
  after(() => server?.remove())

  test('no event whose ack resolved is delivered again, and every event is acked', async () => {
    const events = fixtureEvents({ kind: 'nats', address: server.url, prefix: 'test.restart' })
    const namespace = 'restart'
    const topic = 'jobs'
    const total = 300
    try {
      await publishMany(events, topic, namespace, total)
      const consumer = events.consume<{ n: number }>(topic, {
        namespace,
        group: 'workers',
        offset: 0,
        ack: 'manual',
        ackWait: 2000,
        maxInFlight: 20,
      })
      await consumer.ready
      const ackedAt = new Map<number, number>()
      const afterAck: string[] = []
      let failedAcks = 0
      const loop = (async () => {
        for await (const event of consumer) {
          const { n } = event.payload
          if (ackedAt.has(n)) afterAck.push(`${n} (attempt ${event.attempt})`)
          // Slow enough that the restart lands in the middle of the stream.
          await sleep(2)
          event.ack().then(
            () => ackedAt.set(n, Date.now()),
            () => failedAcks++,
          )
        }
      })()
      await waitFor(() => ackedAt.size >= 100, 30_000, '100 acks')
      await server.stop('SIGTERM')
      await server.resume()
      await waitFor(() => ackedAt.size === total, 60_000, `every ack (have ${ackedAt.size})`)
      // A lost ack would bring its event back after ackWait.
      await sleep(2500)
      consumer.stop()
      await loop
      assert.deepEqual(afterAck, [], `delivered again after their ack resolved (${failedAcks} acks failed)`)
    } finally {
      await events.close()
    }
  })
})

describe('events (redis): Redis restarts without persistence', { skip: engineSkip('redis') }, () => {
  let server: EngineServer
  before(async () => {
    server = await EngineServer.start('redis')
  })
  after(() => server?.remove())

  test('the lost group is made again, the loss reported with counts, and new events flow', async () => {
    const events = fixtureEvents({ kind: 'redis', address: server.url, prefix: 'test:restart:' })
    const namespace = 'restart'
    const topic = 'jobs'
    const losses: GroupLostError[] = []
    try {
      await publishMany(events, topic, namespace, 10)
      const r = await reader(
        events.consume<{ n: number }>(topic, {
          namespace,
          group: 'workers',
          offset: 0,
          ack: 'manual',
          ackWait: 10_000,
          maxInFlight: 4,
          onLoss: (error) => losses.push(error),
        }),
      )
      const held: ReceivedEvent<{ n: number }>[] = await r.take(4)
      // The consumer counts its group every second: give it a few turns to see 4 pending and
      // 6 waiting (well within ackWait, so nothing is redelivered meanwhile).
      await sleep(2500)
      await server.stop('SIGKILL')
      await server.resume()
      await publishMany(events, topic, namespace, 3, 100)
      await waitFor(() => losses.length > 0, 20_000, 'the loss to be reported')
      const [lost] = losses
      assert.ok(lost)
      assert.equal(lost.code, 500)
      assert.deepEqual(
        {
          pending: lost.loss.pending,
          undelivered: lost.loss.undelivered,
          lastDelivered: lost.loss.lastDelivered,
          held: lost.loss.held,
          restartedAfter: lost.loss.restartedAfter,
        },
        { pending: 4, undelivered: 6, lastDelivered: 4, held: 4, restartedAfter: 0 },
      )
      assert.match(lost.message, /4 events delivered and not acknowledged and 6 not yet delivered/)
      // The group was made again from the start of the new stream: nothing published since is lost.
      const fresh = await r.take(3)
      assert.deepEqual(fresh.map((e) => e.payload.n).sort(), [100, 101, 102])
      for (const event of fresh) await event.ack()
      // An event of the lost group cannot be settled in the new one, whose ids start again.
      await assert.rejects(
        held[0]!.ack(),
        (error: unknown) => error instanceof MicroError && error.code === 409,
      )
      await r.quiet(1000)
      assert.equal(losses.length, 1)
      r.consumer.stop()
    } finally {
      await events.close()
    }
  })
})
