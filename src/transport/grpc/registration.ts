import type { HandleOptions } from '../../server/handlers.js'

/** What `grpcHandler` returns: the arguments of `service.handle`, marked for the grpc kind. */
export type GrpcRegistration = [target: object, options: HandleOptions]

const GRPC_REGISTRATION = Symbol.for('micro-ts.grpc-registration')

/** Mark handle() arguments as a protobuf service's (grpcHandler does). */
export function markGrpcRegistration(registration: GrpcRegistration): GrpcRegistration {
  Object.defineProperty(registration, GRPC_REGISTRATION, { value: true })
  return registration
}

/** Whether `value` was made by grpcHandler() (from any copy of the package). */
export function isGrpcRegistration(value: unknown): value is GrpcRegistration {
  return Array.isArray(value) && (value as unknown as Record<symbol, unknown>)[GRPC_REGISTRATION] === true
}
