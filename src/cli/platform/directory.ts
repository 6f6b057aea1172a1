import { notFound } from '../../errors/errors.js'
import type { ServiceRecord } from '../../registry/registry.js'
import type { ServiceDirectory } from '../session.js'
import { listOf, type PlatformClient } from './platform-client.js'

/** How long a lookup may take before the command gives up on the platform. */
const LOOKUP = { timeout: 10_000 }

/**
 * The platform's registry, read through its `Registry` endpoints:
 * `Registry.GetService {service, namespace}` and `Registry.ListServices {namespace}`, each
 * answering `{services: ServiceRecord[]}`. An empty answer to GetService is a 404 here, as
 * a local registry's would be.
 */
export function platformDirectory(platform: PlatformClient): ServiceDirectory {
  return {
    async getService(name, namespace) {
      const reply = await platform.call('Registry.GetService', { service: name, namespace }, LOOKUP)
      const services = listOf<ServiceRecord>(reply, 'services')
      if (services.length === 0)
        throw notFound('micro.cli', `service ${name} not found in namespace ${namespace}`)
      return services
    },
    async listServices(namespace) {
      const reply = await platform.call('Registry.ListServices', { namespace }, LOOKUP)
      return listOf<ServiceRecord>(reply, 'services')
    },
  }
}
