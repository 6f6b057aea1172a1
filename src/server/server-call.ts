import type { Codec } from '../codec/codec.js'
import { canceled, type MicroError, newError, timeout } from '../errors/errors.js'
import type { CallInfo, InboundCall, StreamChannel } from '../transport/transport.js'
import type { DeadlineList, Tracked } from '../util/deadline-list.js'
import type { Context, Metadata } from './context.js'

/**
 * The call whose promise is being made. One shared executor (instead of a closure per
 * call) hands the resolving functions over; the executor runs synchronously, so this is
 * never seen by another call.
 */
let capturing: ServedCall | undefined

function capture(resolve: (value: unknown) => void, reject: (error: MicroError) => void): void {
  ;(capturing as ServedCall).settleTo(resolve, reject)
  capturing = undefined
}

/** What a served call reports back to its server. */
export interface CallOwner {
  readonly name: string
  readonly inFlight: DeadlineList
  /** Normalise (and log) a handler failure. */
  failure(error: unknown, endpoint: string): MicroError
}

/**
 * One call or stream being served: the handler's Context, a node in the server's
 * in-flight list, and where its outcome goes (an in-process caller's promise, a transport
 * call, or a stream channel). It settles once: with the handler's result, its failure, a
 * cancel from the caller, or its deadline.
 *
 * One flat class on purpose: a call is made per request, and a constructor chain with
 * field initialisers costs several times a flat one. The AbortController is made only if a
 * handler reads `signal`.
 */
export class ServedCall implements Context, Tracked {
  readonly endpoint: string
  readonly metadata: Metadata
  /** The time the caller gave it, ms from arrival; `deadline` is when that runs out. */
  readonly timeout: number | undefined
  readonly remote: string | undefined
  readonly protocol: string
  nextTracked: Tracked | undefined = undefined
  prevTracked: Tracked | undefined = undefined
  expiresAt = 0
  readonly #owner: CallOwner
  #controller: AbortController | undefined = undefined
  #reason: unknown = undefined
  #settled = false
  #cleanup: (() => void) | undefined = undefined
  #resolve: ((value: unknown) => void) | undefined = undefined
  #reject: ((error: MicroError) => void) | undefined = undefined
  #inbound: InboundCall | undefined = undefined
  #codec: Codec | undefined = undefined
  #channel: StreamChannel | undefined = undefined

  private constructor(
    owner: CallOwner,
    endpoint: string,
    metadata: Metadata,
    timeout: number | undefined,
    remote: string | undefined,
    protocol: string,
  ) {
    this.#owner = owner
    this.endpoint = endpoint
    this.metadata = metadata
    this.timeout = timeout
    this.remote = remote
    this.protocol = protocol
  }

  /**
   * A call from this process: the outcome settles the caller's promise, with no codec. A
   * `deadline` (epoch ms) is kept as it is: a deadline carried on in-process must not grow
   * by however long the call took to get here.
   */
  static local(
    owner: CallOwner,
    endpoint: string,
    metadata: Metadata,
    timeout: number | undefined,
    deadline?: number,
  ): ServedCall {
    const call = new ServedCall(owner, endpoint, metadata, timeout, undefined, 'local')
    owner.inFlight.add(call, deadline)
    return call
  }

  /** The promise an in-process caller awaits; settled by this call's outcome. */
  promise(): Promise<unknown> {
    capturing = this
    return new Promise(capture)
  }

  /** A call that came through a transport: the outcome is encoded with `codec` and sent back on it. */
  static remote(
    owner: CallOwner,
    inbound: InboundCall,
    codec: Codec,
    endpoint: string,
    timeout: number | undefined,
  ): ServedCall {
    const call = new ServedCall(owner, endpoint, inbound.headers, timeout, inbound.remote, inbound.protocol)
    call.#inbound = inbound
    call.#codec = codec
    inbound.onCancel = (reason) => call.fail(reason)
    owner.inFlight.add(call)
    return call
  }

  /** A stream: failures (deadline) end the channel; the handler's output goes on it directly. */
  static stream(
    owner: CallOwner,
    info: CallInfo,
    endpoint: string,
    timeout: number | undefined,
    channel: StreamChannel,
  ) {
    const call = new ServedCall(owner, endpoint, info.headers, timeout, info.remote, info.protocol)
    call.#channel = channel
    const onAbort = () => call.abort(channel.signal.reason)
    channel.signal.addEventListener('abort', onAbort, { once: true })
    call.#cleanup = () => channel.signal.removeEventListener('abort', onAbort)
    owner.inFlight.add(call)
    return call
  }

  /** Used by `promise()`: the resolving functions of the caller's promise. */
  settleTo(resolve: (value: unknown) => void, reject: (error: MicroError) => void): void {
    this.#resolve = resolve
    this.#reject = reject
  }

  get service(): string {
    return this.#owner.name
  }

  /** Epoch ms by which the caller wants an answer (fixed on first read; see DeadlineList). */
  get deadline(): number | undefined {
    return this.#owner.inFlight.deadlineOf(this)
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

  /** Abort the handler's signal (first reason wins). */
  abort(reason: unknown): void {
    if (this.#reason !== undefined) return
    this.#reason = reason ?? new Error('aborted')
    this.#controller?.abort(this.#reason)
  }

  /** Cancel the call when `signal` aborts (an in-process caller's signal). */
  cancelOn(signal: AbortSignal): void {
    const onAbort = () => this.fail(canceled('micro.client', `call to ${this.endpoint} was canceled`))
    signal.addEventListener('abort', onAbort, { once: true })
    this.#cleanup = () => signal.removeEventListener('abort', onAbort)
  }

  succeed(value: unknown): void {
    if (this.#settled) return
    this.#settle()
    const inbound = this.#inbound
    if (inbound === undefined) {
      this.#resolve?.(value)
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
    else if (this.#channel !== undefined) this.#channel.fail(error)
    else this.#reject?.(error)
  }

  /** A stream finished (its channel is ended or failed already): stop tracking it. */
  finish(): void {
    if (!this.#settled) this.#settle()
  }

  expire(): void {
    this.fail(timeout(this.service, `${this.endpoint} passed its deadline`))
  }

  #settle(): void {
    this.#settled = true
    this.#owner.inFlight.remove(this)
    this.#cleanup?.()
  }
}
