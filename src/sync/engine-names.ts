import { EngineChoice } from '../engines/choice.js'

// The names apart from the engines, so choosing and checking one (a service does at
// creation) loads no engine: each is imported only when a sync is made.

/** Sync names `createSync` understands. */
export const SYNC_NAMES = ['file', 'memory', 'redis', 'postgres', 'nats'] as const

/** The sync engines and how a name picks one (`postgresql` is accepted for `postgres`). */
export const SYNC_ENGINES = new EngineChoice('sync', SYNC_NAMES, 'file', { postgresql: 'postgres' })
