import type { HandlerFn } from './handlers.js'

/** What a wrapper knows about the endpoint it wraps. */
export interface EndpointInfo {
  /** This service's name. */
  service: string
  /** `Handler.Method` */
  name: string
  /** Streaming endpoints get `AsyncIterable` requests and return `AsyncIterable` responses. */
  stream: boolean
  /** Scopes declared with `endpoint({ scopes })`, for the auth wrapper (absent or empty: none). */
  scopes?: readonly string[]
}

/**
 * Server middleware: takes the next handler and returns one that runs around it (auth,
 * logging, metrics...). Composed once per endpoint, the first wrapper outermost; it runs
 * for remote and in-process calls alike, after the request was decoded and validated.
 *
 * What `(req, ctx) => ...` sees:
 * - a unary endpoint: `req` is the decoded request; `next(req, ctx)` returns the handler's
 *   result or a promise of it. A wrapper may return a value or a promise.
 * - a streaming endpoint (`endpoint.stream`): `req` is the AsyncIterable of decoded
 *   messages and `next(req, ctx)` returns the AsyncIterable of replies (or a promise of
 *   one). The wrapper runs once, when the stream opens, so `async (req, ctx) => next(req,
 *   ctx)` works for both; to see each message, wrap `req` or the iterable `next` returns.
 *
 * `ctx` is the same for every wrapper and the handler: metadata, deadline, signal.
 */
export type HandlerWrapper = (next: HandlerFn, endpoint: EndpointInfo) => HandlerFn

/** Compose wrappers around `fn`, the first one outermost. */
export function applyWrappers(
  fn: HandlerFn,
  wrappers: readonly HandlerWrapper[],
  info: EndpointInfo,
): HandlerFn {
  let wrapped = fn
  for (let i = wrappers.length - 1; i >= 0; i--) wrapped = (wrappers[i] as HandlerWrapper)(wrapped, info)
  return wrapped
}
