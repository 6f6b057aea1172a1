import { describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import { brokerConformance } from './conformance.js'
import { MqttBroker } from './mqtt.js'

const mqtt = testServer('mqtt')
const logger = createLogger({ level: 'silent' })

describe('mqtt broker', { skip: mqtt.skip }, () => {
  brokerConformance('mqtt', () => new MqttBroker({ address: mqtt.address, logger }))
})
