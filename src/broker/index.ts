/**
 * Asynchronous publish/subscribe: the Broker interface, its implementations (memory, the
 * default registry + transport broker, NATS, Redis, RabbitMQ, MQTT), `createBroker` to pick
 * one by name, and the service layer (`publish` with codecs and carried metadata,
 * `subscribe` with decoding, validation and a dead-letter topic).
 *
 * The conformance suite every implementation passes lives in `./conformance.js`; it is not
 * exported here because it pulls in `node:test`.
 * @module micro-ts/broker
 */
export { AmqpBroker, type AmqpBrokerOptions } from './amqp.js'
export {
  type Broker,
  type Delivery,
  type DeliveryHandler,
  type Headers,
  ID_HEADER,
  type Message,
  type NackOptions,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
  TOPIC_HEADER,
} from './broker.js'
export {
  DEFAULT_BROKER_SERVICE,
  DELIVER_ENDPOINT,
  DefaultBroker,
  type DefaultBrokerOptions,
} from './default.js'
export { BROKER_NAMES, type BrokerDeps, brokerFromEnv, createBroker } from './from-env.js'
export { MemoryBroker, type MemoryBrokerOptions, MemoryHub } from './memory.js'
export { MqttBroker, type MqttBrokerOptions } from './mqtt.js'
export { NatsBroker, type NatsBrokerOptions } from './nats.js'
export { MESSAGE_HEADERS, type PublishOptions, publish } from './publish.js'
export { RedisBroker, type RedisBrokerOptions } from './redis.js'
export { ServiceBroker, type ServiceBrokerOptions } from './service.js'
export {
  DEAD_REASON_HEADER,
  DEAD_TOPIC_HEADER,
  type MessageContext,
  type MessageHandler,
  type SubscriberOptions,
  subscribe,
} from './subscriber.js'
