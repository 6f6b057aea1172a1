/**
 * The server: handler table, dispatch, wrappers, streaming and validation.
 * @module
 */
export type { Context, Metadata } from './context.js'
export { type EndpointOptions, endpoint } from './endpoint.js'
export type { EndpointDefinition, HandleOptions, HandlerFn } from './handlers.js'
export { Server, type ServerOptions } from './server.js'
export type { InferOutput, StandardIssue, StandardResult, StandardSchema } from './standard-schema.js'
export { applyWrappers, type EndpointInfo, type HandlerWrapper } from './wrappers.js'
