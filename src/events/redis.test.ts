import { randomUUID } from 'node:crypto'
import { createLogger } from '../logger/logger.js'
import { removeRedisKeys } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { eventsConformance } from './conformance.js'
import { inspectorConformance } from './conformance-inspector.js'
import type { Events } from './events.js'
import { RedisEvents } from './redis.js'

const redis = testServer('redis')
const prefixes = new WeakMap<Events, string>()

/** A RedisEvents whose keys no other test run shares. */
function isolatedRedis(): RedisEvents {
  const prefix = `test:events:${randomUUID().slice(0, 8)}:`
  const events = new RedisEvents({
    address: redis.address,
    prefix,
    logger: createLogger({ level: 'error' }),
  })
  prefixes.set(events, prefix)
  return events
}

const cleanup = (events: Events) => removeRedisKeys(redis.address ?? '', prefixes.get(events) ?? '-')
eventsConformance('redis', isolatedRedis, { skip: redis.skip, cleanup })
inspectorConformance('redis', isolatedRedis, { skip: redis.skip, cleanup })
