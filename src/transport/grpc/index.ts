/**
 * gRPC for micro-ts: a transport that serves and calls gRPC over HTTP/2 (`createService({
 * transport: new GrpcTransport() })` or `MICRO_TRANSPORT=grpc`), protobuf services as
 * handlers (`grpcHandler`) and typed clients (`grpcClient`) from the descriptors
 * `protoc-gen-es` generates (`micro gen proto`), the protobuf codecs, and the status mapping.
 * Needs `@bufbuild/protobuf` for messages.
 * @module micro-ts/grpc
 */
export { PROTOBUF_CONTENT_TYPE, protobufCodec, protobufJsonCodec, toMessage } from '../../codec/protobuf.js'
export { type GrpcClient, type GrpcClientMethod, grpcClient } from './client.js'
export { type GrpcHandler, type GrpcMethodImpl, grpcHandler } from './handler.js'
export { GrpcStatus, grpcStatusOf, microCodeOf } from './protocol.js'
export { type GrpcRegistration, isGrpcRegistration } from './registration.js'
export { DEFAULT_GRPC_LIMITS, type GrpcServerLimits } from './server.js'
export { GrpcTransport, type GrpcTransportOptions } from './transport.js'
