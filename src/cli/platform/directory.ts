import { notFound } from '../../errors/errors.js'
import type { ServiceRecord } from '../../registry/registry.js'
import type { ServiceDirectory } from '../session.js'
import { listOf, type PlatformClient } from './platform-client.js'

/**
 * The platform's registry, read through its `Registry` endpoints:
 * `Registry.GetService {service, namespace}` and `Registry.ListServices {namespace}`, each
 * answering `{services: ServiceRecord[]}`. An empty answer to GetService is a 404 here, as
 * a local registry's would be.
 */
export function platformDirectory(platform: PlatformClient): ServiceDirectory {
  return {
    async getService(name, namespace) {
      const reply = await platform.call('Registry.GetService', { service: name, namespace })
      const services = listOf<ServiceRecord>(reply, 'services')
      if (services.length === 0)
        throw notFound('micro.cli', `service ${name} not found in namespace ${namespace}`)
      return services
    },
    async listServices(namespace) {
      return listOf<ServiceRecord>(await platform.call('Registry.ListServices', { namespace }), 'services')
    },
  }
}
