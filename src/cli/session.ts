import { Client } from '../client/client.js'
import { RegistryCache } from '../registry/cache.js'
import { createRegistry } from '../registry/from-env.js'
import type { Registry } from '../registry/registry.js'
import { createSelector } from '../selector/from-name.js'
import { MicroTransport } from '../transport/micro-transport.js'
import type { GlobalOptions } from './args.js'

/** The registry and client a command works with; close it before exiting. */
export interface Session {
  registry: Registry
  /** The client's cached view of the registry: a lookup through it is reused by calls. */
  lookup: RegistryCache
  client: Client
  close(): Promise<void>
}

/** Open the registry (and a client on it) the global options name. */
export function openSession(options: GlobalOptions): Session {
  const registry = createRegistry(options.registry, options.registryAddress)
  const lookup = new RegistryCache(registry)
  const client = new Client({
    lookup,
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace: options.namespace,
    local: false,
    retry: { retries: 1 },
    caller: 'micro.cli',
  })
  return {
    registry,
    lookup,
    client,
    async close() {
      await client.close()
      await registry.close()
    },
  }
}
