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

/**
 * The server's Context. The AbortController is made only if a handler reads `signal`:
 * most handlers never do, and the fast path should not pay for one.
 */
export class CallContext implements Context {
  readonly service: string
  readonly endpoint: string
  readonly metadata: Metadata
  readonly deadline: number | undefined
  readonly remote: string | undefined
  readonly protocol: string
  #controller: AbortController | undefined
  #reason: unknown

  constructor(
    service: string,
    endpoint: string,
    metadata: Metadata,
    deadline: number | undefined,
    remote: string | undefined,
    protocol: string,
  ) {
    this.service = service
    this.endpoint = endpoint
    this.metadata = metadata
    this.deadline = deadline
    this.remote = remote
    this.protocol = protocol
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  get aborted(): boolean {
    return this.#reason !== undefined
  }

  /** Abort the call (first reason wins). */
  abort(reason: unknown): void {
    if (this.#reason !== undefined) return
    this.#reason = reason ?? new Error('aborted')
    this.#controller?.abort(this.#reason)
  }
}
