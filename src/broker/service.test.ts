import { after, before, describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import type { PlatformService } from '../platform/services/platform.js'
import { startTestPlatform } from '../platform/services/test-platform.js'
import { brokerConformance } from './conformance.js'
import { ServiceBroker } from './service.js'

const logger = createLogger({ level: 'silent' })

describe('service broker (a platform on a memory broker)', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  brokerConformance('service', () => new ServiceBroker({ address: platform.address, logger }))
})
