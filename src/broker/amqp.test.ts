import { randomUUID } from 'node:crypto'
import { describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import { AmqpBroker } from './amqp.js'
import { brokerConformance } from './conformance.js'

const amqp = testServer('amqp')
const logger = createLogger({ level: 'silent' })
// Group queues are durable: let the server drop them a minute after the test stops using them.
const groupQueueArguments = { 'x-expires': 60_000 }
const queuePrefix = `test-${randomUUID().slice(0, 8)}`

describe('amqp broker', { skip: amqp.skip }, () => {
  brokerConformance(
    'amqp',
    () => new AmqpBroker({ address: amqp.address, logger, groupQueueArguments, queuePrefix }),
  )
})
