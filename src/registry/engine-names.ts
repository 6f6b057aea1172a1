import { EngineChoice } from '../engines/choice.js'

// The names apart from the engines, so choosing and checking one (a service does at
// creation) loads no engine: each is imported only when a registry is made.

/** Registry names `createRegistry` understands. */
export const REGISTRY_NAMES = ['mdns', 'memory', 'nats', 'service'] as const

/** The registry engines and how a name picks one. */
export const REGISTRY_ENGINES = new EngineChoice('registry', REGISTRY_NAMES, 'mdns')
