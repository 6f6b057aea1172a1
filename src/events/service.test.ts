import { after, before, describe } from 'node:test'
import { createLogger } from '../logger/logger.js'
import type { PlatformService } from '../platform/services/platform.js'
import { startTestPlatform } from '../platform/services/test-platform.js'
import { eventsConformance } from './conformance.js'
import { inspectorConformance } from './conformance-inspector.js'
import { ServiceEvents } from './service.js'

const logger = createLogger({ level: 'silent' })

describe('service events (a platform on memory events)', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  eventsConformance('service', () => new ServiceEvents({ address: platform.address, logger }))
  inspectorConformance('service', () => new ServiceEvents({ address: platform.address, logger }))
})
