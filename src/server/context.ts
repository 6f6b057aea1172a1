/** Call metadata: header-like key/values, keys lower-case. */
export type Metadata = Readonly<Record<string, string>>

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
