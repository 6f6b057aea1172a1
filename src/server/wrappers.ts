import type { HandlerFn } from './handlers.js'

/** What a wrapper knows about the endpoint it wraps. */
export interface EndpointInfo {
  /** This service's name. */
  service: string
  /** `Handler.Method` */
  name: string
  /** Streaming endpoints get `AsyncIterable` requests and return `AsyncIterable` responses. */
  stream: boolean
}

/**
 * Server middleware: takes the next handler and returns one that runs around it (auth,
 * logging, metrics...). Composed once per endpoint, the first wrapper outermost.
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
