/**
 * The server: handler table, dispatch, wrappers, streaming and validation.
 * @module micro-ts/server
 */
export { type Context, type Metadata, TRANSPORT_HEADERS } from './context.js'
export { type EndpointOptions, endpoint } from './endpoint.js'
export { type EndpointDefinition, type HandleOptions, type HandlerFn, isEndpointName } from './handlers.js'
export { Server, type ServerOptions } from './server.js'
export type { InferOutput, StandardIssue, StandardResult, StandardSchema } from './standard-schema.js'
export { applyWrappers, type EndpointInfo, type HandlerWrapper } from './wrappers.js'
