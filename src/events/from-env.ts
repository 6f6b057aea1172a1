import type { EventsOptions } from './base.js'
import type { Events } from './events.js'
import { FileEvents } from './file.js'
import { sharedMemoryEvents } from './memory.js'
import { NatsEvents } from './nats.js'
import { RedisEvents } from './redis.js'

/** Implementation names `createEvents` understands. */
export const EVENTS_NAMES = ['file', 'memory', 'nats', 'redis'] as const

/**
 * Event streams by name, as `MICRO_EVENTS` / `MICRO_EVENTS_ADDRESS` configure them:
 *
 * - `file` (the default): LMDB in a directory (`address`, default `~/.micro/events`),
 *   shared by the processes of this machine.
 * - `memory`: one log shared by everything in this process (`address` is ignored).
 * - `nats`: NATS JetStream at `address` (default `nats://127.0.0.1:4222`).
 * - `redis`: Redis Streams at `address` (default `redis://127.0.0.1:6379`).
 *
 * Nothing connects or opens until first used. Throws a TypeError naming the valid
 * choices for any other name.
 */
export function createEvents(name = 'file', address?: string, options: EventsOptions = {}): Events {
  const chosen = name.trim().toLowerCase() || 'file'
  const at = address?.trim() || undefined
  switch (chosen) {
    case 'file':
      return new FileEvents({ ...options, directory: at })
    case 'memory':
      return sharedMemoryEvents(options)
    case 'nats':
      return new NatsEvents({ ...options, address: at })
    case 'redis':
      return new RedisEvents({ ...options, address: at })
    default:
      throw new TypeError(`unknown events "${name}": choose one of ${EVENTS_NAMES.join(', ')}`)
  }
}

/** The events `MICRO_EVENTS` and `MICRO_EVENTS_ADDRESS` name (file when unset). */
export function eventsFromEnv(env: NodeJS.ProcessEnv = process.env, options: EventsOptions = {}): Events {
  return createEvents(env.MICRO_EVENTS || undefined, env.MICRO_EVENTS_ADDRESS || undefined, options)
}
