import { describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import { brokerConformance } from './conformance.js'
import { NatsBroker } from './nats.js'

const nats = testServer('nats')
const logger = createLogger({ level: 'silent' })

describe('nats broker', { skip: nats.skip }, () => {
  brokerConformance('nats', () => new NatsBroker({ address: nats.address, logger }))
})
