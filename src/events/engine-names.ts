import { EngineChoice } from '../engines/choice.js'

// The names apart from the engines, so choosing and checking one (a service does at
// creation) loads no engine: each is imported only when a events is made.

/** Implementation names `createEvents` understands. */
export const EVENTS_NAMES = ['file', 'memory', 'nats', 'redis', 'service'] as const

/** The events engines and how a name picks one. */
export const EVENTS_ENGINES = new EngineChoice('events', EVENTS_NAMES, 'file')
