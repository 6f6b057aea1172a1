/** Call metadata: header-like key/values, keys lower-case. */
export type Metadata = Readonly<Record<string, string>>

/**
 * Keys a transport adds to `ctx.metadata` for itself: in-process calls do not have them,
 * and they are not carried on to the next service. Everything else (`micro-caller`, the
 * caller's metadata, trace context) is the same for in-process, micro-protocol, NATS and
 * HTTP calls.
 */
export const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  // how the call was framed: the endpoint, time left (ms; Go's ns), the codec
  'micro-endpoint',
  'micro-method',
  'x-micro-endpoint',
  'micro-stream',
  'micro-window',
  'timeout',
  'micro-timeout',
  'content-type',
  // HTTP's own request headers
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'keep-alive',
  'accept',
  'accept-encoding',
  'user-agent',
  'expect',
])

/**
 * What a handler knows about the call it serves. Pass it as `context` in a client call
 * to carry the deadline, cancellation and metadata on to the next service.
 */
export interface Context {
  /** This service's name. */
  readonly service: string
  /** The endpoint being served, e.g. `Greeter.Hello`. */
  readonly endpoint: string
  /** Metadata from the caller (all headers it sent, lower-case keys). */
  readonly metadata: Metadata
  /** Epoch ms by which the caller wants an answer; undefined when it set none. */
  readonly deadline: number | undefined
  /** Aborted when the caller cancels, disconnects, or the deadline passes. */
  readonly signal: AbortSignal
  /** The caller's address; undefined for in-process calls. */
  readonly remote: string | undefined
  /** What carried the call: `local`, `micro`, `http`, ... */
  readonly protocol: string
}
