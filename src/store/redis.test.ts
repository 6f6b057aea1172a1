import { describe } from 'node:test'
import { testServer } from '../testing/servers.js'
import { storeConformance } from './conformance.js'
import { RedisStore } from './redis.js'

const redis = testServer('redis')

describe('redis store', { skip: redis.skip }, () => {
  storeConformance('redis (scan)', () => new RedisStore({ address: redis.address }), { persistent: true })
  storeConformance('redis (index)', () => new RedisStore({ address: redis.address, index: true }), {
    persistent: true,
  })
})
