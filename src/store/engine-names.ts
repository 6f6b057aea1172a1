import { EngineChoice } from '../engines/choice.js'

// The names apart from the engines, so choosing and checking one (a service does at
// creation) loads no engine: each is imported only when a store is made.

/** Store names `createStore` understands. */
export const STORE_NAMES = ['file', 'memory', 'redis', 'postgres', 'nats', 'service'] as const

/** The store engines and how a name picks one (`postgresql` is accepted for `postgres`). */
export const STORE_ENGINES = new EngineChoice('store', STORE_NAMES, 'file', { postgresql: 'postgres' })
