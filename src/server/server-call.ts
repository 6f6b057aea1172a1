import { canceled, type MicroError, timeout } from '../errors/errors.js'
import { CallContext, type Metadata } from './context.js'
import type { InFlight, TrackedCall } from './inflight.js'

/** What a ServerCall reports back to its server. */
export interface CallOwner {
  readonly inFlight: InFlight
  /** Normalise (and log) a handler failure. */
  failure(error: unknown, endpoint: string): MicroError
}

/**
 * One call being served: the handler's Context, a node in the server's in-flight list,
 * and the settling of the promise the caller awaits. It settles once: with the handler's
 * result, its failure, a cancel from the caller, or its deadline.
 */
export class ServerCall extends CallContext implements TrackedCall {
  nextCall: TrackedCall | undefined = undefined
  prevCall: TrackedCall | undefined = undefined
  #owner: CallOwner
  #resolve: ((value: unknown) => void) | undefined
  #reject: ((error: MicroError) => void) | undefined
  #signal: AbortSignal | undefined
  #onAbort: (() => void) | undefined

  constructor(
    owner: CallOwner,
    service: string,
    endpoint: string,
    metadata: Metadata,
    deadline: number | undefined,
    remote: string | undefined,
    protocol: string,
  ) {
    super(service, endpoint, metadata, deadline, remote, protocol)
    this.#owner = owner
  }

  /** Start tracking; `resolve`/`reject` settle the caller's promise. */
  begin(resolve: (value: unknown) => void, reject: (error: MicroError) => void): void {
    this.#resolve = resolve
    this.#reject = reject
    this.#owner.inFlight.add(this)
  }

  /** Cancel the call when `signal` aborts (an in-process caller's signal). */
  cancelOn(signal: AbortSignal): void {
    this.#signal = signal
    this.#onAbort = () => this.fail(canceled('micro.client', `call to ${this.endpoint} was canceled`))
    signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  succeed(value: unknown): void {
    const resolve = this.#resolve
    if (resolve === undefined) return
    this.#settle()
    resolve(value)
  }

  failed(error: unknown): void {
    if (this.#reject === undefined) return
    this.fail(this.#owner.failure(error, this.endpoint))
  }

  /** Fail with an error that needs no normalising (cancel, deadline). Aborts the handler's signal. */
  fail(error: MicroError): void {
    const reject = this.#reject
    if (reject === undefined) return
    this.#settle()
    this.abort(error)
    reject(error)
  }

  expire(): void {
    this.fail(timeout(this.service, `${this.endpoint} passed its deadline`))
  }

  #settle(): void {
    this.#resolve = undefined
    this.#reject = undefined
    this.#owner.inFlight.remove(this)
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
  }
}
