import { randomUUID } from 'node:crypto'
import { createLogger } from '../logger/logger.js'
import { removeRedisKeys } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { eventsConformance } from './conformance.js'
import type { Events } from './events.js'
import { RedisEvents } from './redis.js'

const redis = testServer('redis')
const prefixes = new WeakMap<Events, string>()

eventsConformance(
  'redis',
  () => {
    const prefix = `test:events:${randomUUID().slice(0, 8)}:`
    const events = new RedisEvents({
      address: redis.address,
      prefix,
      logger: createLogger({ level: 'error' }),
    })
    prefixes.set(events, prefix)
    return events
  },
  {
    skip: redis.skip,
    cleanup: (events) => removeRedisKeys(redis.address ?? '', prefixes.get(events) ?? '-'),
  },
)
