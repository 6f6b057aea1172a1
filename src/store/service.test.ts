import { after, before, describe } from 'node:test'
import type { PlatformService } from '../platform/services/platform.js'
import { startTestPlatform } from '../platform/services/test-platform.js'
import { storeConformance } from './conformance.js'
import { ServiceStore } from './service.js'

describe('service store (a platform on memory engines)', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  storeConformance('service', () => new ServiceStore({ address: platform.address }), {
    // The platform's memory store outlives the clients: a new client sees what the last wrote.
    persistent: true,
  })
})
