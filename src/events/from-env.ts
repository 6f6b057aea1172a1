import { platformAddress } from '../engines/platform.js'
import type { EventsOptions } from './base.js'
import { EVENTS_ENGINES } from './engine-names.js'
import type { Events } from './events.js'
import { FileEvents } from './file.js'
import { sharedMemoryEvents } from './memory.js'
import { NatsEvents } from './nats.js'
import { RedisEvents } from './redis.js'
import { ServiceEvents } from './service.js'

export { EVENTS_ENGINES, EVENTS_NAMES } from './engine-names.js'

/**
 * Event streams by name, as `MICRO_EVENTS` / `MICRO_EVENTS_ADDRESS` configure them:
 *
 * - `file` (the default): LMDB in a directory (`address`, default `~/.micro/events`),
 *   shared by the processes of this machine.
 * - `memory`: one log shared by everything in this process (`address` is ignored).
 * - `nats`: NATS JetStream at `address` (default `nats://127.0.0.1:4222`).
 * - `redis`: Redis Streams at `address` (default `redis://127.0.0.1:6379`).
 * - `service`: the event streams of a platform (`micro server`); `address` is its platform
 *   port `host:port` (default MICRO_PLATFORM, else `127.0.0.1:8081`).
 *
 * Nothing connects or opens until first used. Throws a TypeError naming the known
 * engines for any other name.
 */
export function createEvents(name?: string, address?: string, options: EventsOptions = {}): Events {
  const at = address?.trim() || undefined
  switch (EVENTS_ENGINES.pick(name)) {
    case 'file':
      return new FileEvents({ ...options, directory: at })
    case 'memory':
      return sharedMemoryEvents(options)
    case 'nats':
      return new NatsEvents({ ...options, address: at })
    case 'redis':
      return new RedisEvents({ ...options, address: at })
    case 'service':
      return new ServiceEvents({ ...options, address: at })
  }
}

/**
 * The events `MICRO_EVENTS` and `MICRO_EVENTS_ADDRESS` name (file when unset, the
 * platform's when only MICRO_PLATFORM is set). An unknown
 * name is a TypeError such as `MICRO_EVENTS=kafka: unknown events engine; known: ...`.
 */
export function eventsFromEnv(env: NodeJS.ProcessEnv = process.env, options: EventsOptions = {}): Events {
  const name = EVENTS_ENGINES.fromEnv(env, 'MICRO_EVENTS')
  const address = env.MICRO_EVENTS_ADDRESS || undefined
  return createEvents(name, name === 'service' ? platformAddress(address, env) : address, options)
}
