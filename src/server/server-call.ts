import type { Codec } from '../codec/codec.js'
import { canceled, type MicroError, newError, timeout } from '../errors/errors.js'
import type { InboundCall } from '../transport/transport.js'
import type { DeadlineList, Tracked } from '../util/deadline-list.js'
import { CallContext, type Metadata } from './context.js'

/** What a ServerCall reports back to its server. */
export interface CallOwner {
  readonly inFlight: DeadlineList
  /** Normalise (and log) a handler failure. */
  failure(error: unknown, endpoint: string): MicroError
}

/**
 * One call being served: the handler's Context, a node in the server's in-flight list,
 * and the delivery of its outcome, either to a transport call (encoded with `codec`) or to
 * an in-process caller's promise. It settles once: with the handler's result, its
 * failure, a cancel from the caller, or its deadline.
 */
export class ServerCall extends CallContext implements Tracked {
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  #owner: CallOwner
  #settled = false
  #inbound: InboundCall | undefined
  #codec: Codec | undefined
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

  /** Deliver the outcome to a transport call, encoding the result with `codec`. */
  replyTo(inbound: InboundCall, codec: Codec): void {
    this.#inbound = inbound
    this.#codec = codec
    inbound.onCancel = (reason) => this.fail(reason)
    this.#owner.inFlight.add(this)
  }

  /** Deliver the outcome to an in-process caller's promise. */
  settleTo(resolve: (value: unknown) => void, reject: (error: MicroError) => void): void {
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
    if (this.#settled) return
    this.#settle()
    const inbound = this.#inbound
    if (inbound === undefined) {
      ;(this.#resolve as (value: unknown) => void)(value)
      return
    }
    let body: Uint8Array
    try {
      body = (this.#codec as Codec).encode(value)
    } catch (error) {
      inbound.fail(
        newError(
          this.service,
          `cannot encode the response of ${this.endpoint}: ${(error as Error).message}`,
          500,
        ),
      )
      return
    }
    inbound.respond(body)
  }

  failed(error: unknown): void {
    if (this.#settled) return
    this.fail(this.#owner.failure(error, this.endpoint))
  }

  /** Fail with an error that needs no normalising (cancel, deadline). Aborts the handler's signal. */
  fail(error: MicroError): void {
    if (this.#settled) return
    this.#settle()
    this.abort(error)
    if (this.#inbound !== undefined) this.#inbound.fail(error)
    else (this.#reject as (error: MicroError) => void)(error)
  }

  expire(): void {
    this.fail(timeout(this.service, `${this.endpoint} passed its deadline`))
  }

  #settle(): void {
    this.#settled = true
    this.#owner.inFlight.remove(this)
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
  }
}
