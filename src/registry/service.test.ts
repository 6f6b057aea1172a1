import { after, before, describe } from 'node:test'
import type { PlatformService } from '../platform/services/platform.js'
import { startTestPlatform } from '../platform/services/test-platform.js'
import { registryConformance } from './conformance.js'
import { ServiceRegistry } from './service.js'

describe('service registry (a platform on a memory registry)', () => {
  let platform: PlatformService
  before(async () => {
    platform = await startTestPlatform()
  })
  after(() => platform.close())

  registryConformance('service', () => new ServiceRegistry({ address: platform.address }))
})
