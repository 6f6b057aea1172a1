import { describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { removeRedisKeys } from '../testing/cleanup.js'
import { testServer } from '../testing/servers.js'
import { brokerConformance } from './conformance.js'
import { RedisBroker } from './redis.js'

const redis = testServer('redis')
const logger = createLogger({ level: 'silent' })
const prefix = `test:broker:${process.pid}:`

describe('redis broker', { skip: redis.skip }, () => {
  brokerConformance(
    'redis',
    () => new RedisBroker({ address: redis.address, prefix, logger, groupTtl: 5000, queueTtl: 60_000 }),
    { cleanup: () => removeRedisKeys(redis.address as string, prefix) },
  )
})
