import { describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import { brokerConformance } from './conformance.js'
import { RedisBroker } from './redis.js'
import { deleteKeys } from './redis-testing.js'

const redis = testServer('redis')
const logger = createLogger({ level: 'silent' })
const prefix = `test:broker:${process.pid}:`

describe('redis broker', { skip: redis.skip }, () => {
  brokerConformance(
    'redis',
    () => new RedisBroker({ address: redis.address, prefix, logger, groupTtl: 5000, queueTtl: 60_000 }),
    { cleanup: () => deleteKeys(redis.address as string, prefix) },
  )
})
