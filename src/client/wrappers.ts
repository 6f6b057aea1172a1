import type { CallOptions } from './options.js'

/** A call as client wrappers see it. */
export interface ClientRequest {
  service: string
  endpoint: string
  body: unknown
  options: CallOptions
}

/** One whole call (retries included), as client wrappers see it: the request in, the decoded reply out. */
export type CallFn = (request: ClientRequest) => Promise<unknown>

/**
 * Client middleware around whole calls (retries included): tracing, auth tokens, logging.
 * The first wrapper is outermost.
 */
export type ClientWrapper = (next: CallFn) => CallFn
