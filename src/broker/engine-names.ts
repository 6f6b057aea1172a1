import { EngineChoice } from '../engines/choice.js'

// The names apart from the engines, so choosing and checking one (a service does at
// creation) loads no engine: each is imported only when a broker is made.

/** Broker names `createBroker` understands (`rabbitmq` is accepted for `amqp`). */
export const BROKER_NAMES = ['default', 'memory', 'nats', 'redis', 'amqp', 'mqtt', 'service'] as const

/** The broker engines and how a name picks one. */
export const BROKER_ENGINES = new EngineChoice('broker', BROKER_NAMES, 'default', { rabbitmq: 'amqp' })
