/**
 * Transports: the micro protocol (binary, multiplexed) and HTTP on one TCP port, and NATS
 * request/reply; `createTransport` picks one by name.
 * @module micro-ts/transport
 */
export { formatAddress, parseAddress } from './address.js'
export { DEFAULT_MAX_FRAME_SIZE } from './frame.js'
export {
  type CreateTransportOptions,
  createTransport,
  TRANSPORT_NAMES,
  transportFromEnv,
} from './from-env.js'
export {
  DEFAULT_LIMITS,
  LIMIT_VARIABLES,
  NO_LIMITS,
  parseBytes,
  resolveLimits,
  type ServerLimits,
} from './limits.js'
export { MicroTransport, type MicroTransportOptions } from './micro-transport.js'
export { isListenSubject, natsNodeSubject } from './nats/subject.js'
export { NatsTransport, type NatsTransportOptions } from './nats-transport.js'
export type {
  Dispatcher,
  Headers,
  InboundCall,
  Listener,
  ListenOptions,
  OutboundCall,
  OutboundStream,
  Reply,
  StreamChannel,
  Transport,
} from './transport.js'
export { isLost, isUnsent, lostError, unsentError } from './transport-errors.js'
