import { EngineChoice } from '../engines/choice.js'

// The names apart from the engines, so choosing and checking one (a service does at
// creation) loads no engine: each is imported only when a transport is made.

/** Transport names `createTransport` understands. */
export const TRANSPORT_NAMES = ['micro', 'nats', 'grpc'] as const

/** The transport engines and how a name picks one. */
export const TRANSPORT_ENGINES = new EngineChoice('transport', TRANSPORT_NAMES, 'micro')
