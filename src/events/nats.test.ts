import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { removeNatsStreams } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { eventsConformance } from './conformance.js'
import { inspectorConformance } from './conformance-inspector.js'
import type { Events } from './events.js'
import { NatsEvents, type NatsEventsOptions } from './nats.js'

const nats = testServer('nats')
const prefixes = new WeakMap<Events, string>()

/** A NatsEvents whose streams and subjects no other test run shares. */
function isolatedNats(options: NatsEventsOptions = {}): NatsEvents {
  const id = randomUUID().slice(0, 8)
  const events = new NatsEvents({
    address: nats.address,
    subjectPrefix: `test.${id}`,
    streamPrefix: `TEST_${id}_`,
    logger: createLogger({ level: 'error' }),
    ...options,
  })
  prefixes.set(events, `TEST_${id}_`)
  return events
}

const cleanup = (events: Events) => removeNatsStreams(nats.address ?? '', prefixes.get(events) ?? '-')
eventsConformance('nats', () => isolatedNats(), { skip: nats.skip, cleanup })
inspectorConformance('nats', () => isolatedNats(), { skip: nats.skip, cleanup })

describe('nats events: overlapping pulls', { skip: nats.skip }, () => {
  // JetStream delivers pulled messages under the event's subject, not the request's reply
  // subject; a puller that told requests apart by subject lost count and waited for each
  // request to expire. With a one-minute expiry such a stall overruns this test's timeout.
  test('many times maxInFlight events arrive without waiting for a pull to expire', {
    timeout: 30_000,
  }, async () => {
    const events = isolatedNats({ pullTimeout: 60_000 })
    try {
      const count = 600
      await Promise.all(Array.from({ length: count }, (_, n) => events.publish('bulk', { n })))
      const seen: number[] = []
      const consumer = events.consume<{ n: number }>('bulk', {
        group: 'g',
        ack: 'manual',
        offset: 1,
        maxInFlight: 8,
      })
      for await (const event of consumer) {
        seen.push(event.payload.n)
        await event.ack()
        if (seen.length === count) break
      }
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: count }, (_, n) => n),
      )
    } finally {
      await events.close()
      await removeNatsStreams(nats.address ?? '', prefixes.get(events) ?? '-')
    }
  })
})
