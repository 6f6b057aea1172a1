import type { Logger } from '../logger/logger.js'
import type { Registry } from '../registry/registry.js'
import type { BlockFactories } from './blocks.js'

/**
 * The broker, events and store of `micro run`, as MICRO_BROKER, MICRO_EVENTS and
 * MICRO_STORE (each with its `_ADDRESS`) name them; made on first use. Events: `file`
 * (default, in MICRO_EVENTS_ADDRESS or ~/.micro/events) or `memory`.
 */
export async function blocksFromEnv(
  env: NodeJS.ProcessEnv,
  registry: Registry,
  namespace: string,
  logger: Logger,
): Promise<BlockFactories> {
  const [broker, store, fileEvents, memoryEvents] = await Promise.all([
    import('../broker/from-env.js'),
    import('../store/from-env.js'),
    import('../events/file.js'),
    import('../events/memory.js'),
  ])
  return {
    broker: () =>
      broker.brokerFromEnv({ registry, namespace, logger: logger.child({ component: 'broker' }) }, env),
    store: () => store.storeFromEnv(env),
    events: () => {
      const name = (env.MICRO_EVENTS || 'file').toLowerCase()
      const options = { namespace, logger: logger.child({ component: 'events' }) }
      if (name === 'memory') return memoryEvents.sharedMemoryEvents(options)
      if (name === 'file')
        return new fileEvents.FileEvents({ ...options, directory: env.MICRO_EVENTS_ADDRESS || undefined })
      throw new TypeError(`unknown events "${env.MICRO_EVENTS}": micro run knows file and memory`)
    },
  }
}
