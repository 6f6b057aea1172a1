import { randomUUID } from 'node:crypto'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import { eventsConformance } from './conformance.js'
import type { Events } from './events.js'
import { NatsEvents, type NatsEventsOptions } from './nats.js'
import { removeNatsStreams } from './testing-cleanup.js'

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

eventsConformance('nats', () => isolatedNats(), {
  skip: nats.skip,
  cleanup: (events) => removeNatsStreams(nats.address ?? '', prefixes.get(events) ?? '-'),
})
