import { MemoryBroker } from '../../broker/memory.js'
import { MemoryEvents } from '../../events/memory.js'
import { createLogger } from '../../logger/logger.js'
import { MemoryRegistry } from '../../registry/memory.js'
import { MemoryStore } from '../../store/memory.js'
import { type PlatformService, type PlatformServiceOptions, startPlatformService } from './platform.js'

/** A 32-byte key for config secrets in tests (never a real one). */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7)

/**
 * A platform service for tests: on a free loopback port, on memory engines of its own
 * unless `options` give others, silent. The caller closes it (which closes the memory
 * engines it made too).
 */
export async function startTestPlatform(options: PlatformServiceOptions = {}): Promise<PlatformService> {
  const made = {
    registry: options.registry ?? new MemoryRegistry({ sweepInterval: 100 }),
    broker: options.broker ?? new MemoryBroker({ logger: createLogger({ level: 'silent' }) }),
    events: options.events ?? new MemoryEvents({ logger: createLogger({ level: 'silent' }) }),
    store: options.store ?? new MemoryStore({ sweepInterval: 100 }),
  }
  const platform = await startPlatformService({
    address: '127.0.0.1:0',
    secretKey: () => TEST_SECRET_KEY,
    logger: createLogger({ level: 'silent' }),
    env: {},
    ...options,
    ...made,
  })
  return {
    ...platform,
    async close() {
      await platform.close()
      for (const [block, engine] of Object.entries(made)) {
        if (options[block as keyof typeof made] === undefined) await engine.close()
      }
    },
  }
}
