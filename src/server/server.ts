import { type Codecs, defaultCodecs } from '../codec/codecs.js'
import { badRequest, MicroError, newError, notFound, serviceUnavailable, timeout } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import type { EndpointRecord } from '../registry/registry.js'
import type { Dispatcher, InboundCall, Reply, StreamChannel } from '../transport/transport.js'
import { CallContext, type Metadata } from './context.js'
import { endpointsOf, type HandleOptions } from './handlers.js'
import { InFlight, type TrackedCall } from './inflight.js'
import { validate } from './schema.js'
import { type CallOwner, ServerCall } from './server-call.js'
import { type Entry, serveStream } from './stream-dispatch.js'
import { applyWrappers, type HandlerWrapper } from './wrappers.js'

export interface ServerOptions {
  /** The service name, used as the id of errors it raises. */
  name: string
  codecs?: Codecs
  wrappers?: HandlerWrapper[]
  logger?: Logger
}

/**
 * The handler table and the dispatch of calls to it, for every transport and for
 * in-process callers: decode by content type, validate, run wrappers and handler under
 * the caller's deadline and cancellation, encode the reply, map failures to MicroErrors.
 */
export class Server implements Dispatcher, CallOwner {
  readonly name: string
  readonly #codecs: Codecs
  readonly #entries = new Map<string, Entry>()
  readonly #wrappers: HandlerWrapper[]
  readonly #logger: Logger
  readonly inFlight = new InFlight()
  #draining = false

  constructor(options: ServerOptions) {
    this.name = options.name
    this.#codecs = options.codecs ?? defaultCodecs
    this.#wrappers = [...(options.wrappers ?? [])]
    this.#logger = options.logger ?? createLogger({ fields: { service: options.name } })
  }

  /** Register every method of `target` as `Name.Method` endpoints. */
  handle(target: object, options?: HandleOptions): this {
    const definitions = endpointsOf(target, options)
    for (const d of definitions) {
      if (this.#entries.has(d.name)) throw new TypeError(`endpoint ${d.name} is already registered`)
    }
    for (const d of definitions) this.#entries.set(d.name, this.#entry({ ...d, invoke: d.fn }))
    return this
  }

  /** Add server wrappers (middleware); they apply to every endpoint, first one outermost. */
  wrap(...wrappers: HandlerWrapper[]): this {
    this.#wrappers.push(...wrappers)
    for (const [name, entry] of this.#entries) this.#entries.set(name, this.#entry(entry))
    return this
  }

  /** Published endpoints (and internal ones too when asked), sorted by name, for the registry. */
  endpoints(includeInternal = false): EndpointRecord[] {
    return [...this.#entries.values()]
      .filter((e) => includeInternal || !e.internal)
      .map((e) => e.record)
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  /** The endpoint entry for a name, if served here. */
  entry(endpoint: string): Entry | undefined {
    return this.#entries.get(endpoint)
  }

  /** Calls (and streams) being served right now. */
  get activeCalls(): number {
    return this.inFlight.count
  }

  /** Refuse new calls with 503 from now on; calls in flight go on. */
  startDraining(): void {
    this.#draining = true
  }

  get draining(): boolean {
    return this.#draining
  }

  /** Resolves true once no call is in flight, or false if `timeoutMs` passes first. */
  waitIdle(timeoutMs: number): Promise<boolean> {
    return this.inFlight.waitIdle(timeoutMs)
  }

  unary(call: InboundCall): Promise<Reply> {
    const entry = this.#entries.get(call.endpoint)
    if (entry === undefined) return Promise.reject(this.#unknownEndpoint(call.endpoint))
    if (this.#draining) return Promise.reject(serviceUnavailable(this.name, `${this.name} is shutting down`))
    const codec = this.#codecs.get(call.headers['content-type'])
    if (codec === undefined) return Promise.reject(this.#unsupported(call.headers['content-type']))
    if (entry.stream) {
      return Promise.reject(
        badRequest(
          this.name,
          `${entry.name} is a streaming endpoint: open a stream to call it (not over plain HTTP)`,
        ),
      )
    }
    let req: unknown
    try {
      req = codec.decode(call.body)
    } catch (error) {
      return Promise.reject(
        badRequest(this.name, `invalid ${codec.contentType} body: ${(error as Error).message}`),
      )
    }
    return this.invoke(entry, req, call.headers, call.timeout, call.remote, call.protocol, call).then(
      (result) => {
        try {
          return { body: codec.encode(result) }
        } catch (error) {
          throw newError(
            this.name,
            `cannot encode the response of ${entry.name}: ${(error as Error).message}`,
            500,
          )
        }
      },
    )
  }

  stream(call: InboundCall, channel: StreamChannel): void {
    const entry = this.#entries.get(call.endpoint)
    const codec = this.#codecs.get(call.headers['content-type'])
    const refusal =
      entry === undefined
        ? this.#unknownEndpoint(call.endpoint)
        : this.#draining
          ? serviceUnavailable(this.name, `${this.name} is shutting down`)
          : codec === undefined
            ? this.#unsupported(call.headers['content-type'])
            : undefined
    if (refusal || !entry || !codec) {
      channel.fail(refusal ?? this.#unknownEndpoint(call.endpoint))
      return
    }
    const deadline = call.timeout === undefined ? undefined : this.inFlight.now() + call.timeout
    const ctx = new CallContext(this.name, entry.name, call.headers, deadline, call.remote, call.protocol)
    const onAbort = () => ctx.abort(channel.signal.reason)
    channel.signal.addEventListener('abort', onAbort, { once: true })
    const tracked: TrackedCall = {
      deadline,
      nextCall: undefined,
      prevCall: undefined,
      expire: () => {
        const error = timeout(this.name, `${entry.name} passed its deadline`)
        ctx.abort(error)
        channel.fail(error)
      },
    }
    this.inFlight.add(tracked)
    serveStream(entry, codec, ctx, channel, this.name).finally(() => {
      channel.signal.removeEventListener('abort', onAbort)
      this.inFlight.remove(tracked)
    })
  }

  /**
   * Run an endpoint under a deadline (`timeout` ms from now) and the caller's
   * cancellation (the transport's `onCancel`, or `signal` for in-process callers). The
   * in-process client calls this directly, with no codec in between.
   */
  invoke(
    entry: Entry,
    req: unknown,
    metadata: Metadata,
    timeoutMs: number | undefined,
    remote: string | undefined,
    protocol: string,
    inbound?: InboundCall,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const deadline = timeoutMs === undefined ? undefined : this.inFlight.now() + timeoutMs
    const call = new ServerCall(this, this.name, entry.name, metadata, deadline, remote, protocol)
    return new Promise<unknown>((resolve, reject) => {
      call.begin(resolve, reject)
      if (inbound) inbound.onCancel = (reason) => call.fail(reason)
      if (signal) call.cancelOn(signal)
      let result: unknown
      try {
        result =
          entry.request === undefined
            ? entry.invoke(req, call)
            : Promise.resolve(validate(entry.request, req, this.name, 'request')).then((valid) =>
                entry.invoke(valid, call),
              )
      } catch (error) {
        call.failed(error)
        return
      }
      if (isThenable(result)) settleWith(call, result)
      else call.succeed(result)
    })
  }

  /** Normalise a handler failure; unexpected ones (plain errors) are logged with their stack. */
  failure(error: unknown, endpoint: string): MicroError {
    const microError = MicroError.from(error, this.name)
    if (!(error instanceof MicroError) && microError.code === 500) {
      this.#logger.error('handler failed', { endpoint, error })
    }
    return microError
  }

  #entry(definition: Entry): Entry {
    const info = { service: this.name, name: definition.name, stream: definition.stream }
    return { ...definition, invoke: applyWrappers(definition.fn, this.#wrappers, info) }
  }

  #unknownEndpoint(endpoint: string): MicroError {
    return notFound(this.name, `endpoint ${endpoint} not found on service ${this.name}`)
  }

  #unsupported(contentType: string | undefined): MicroError {
    return newError(
      this.name,
      `unsupported content type ${contentType}: use one of ${this.#codecs.contentTypes().join(', ')}`,
      415,
    )
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  )
}

/** Settle `call` with the outcome of a handler's promise (an async function: no closures per call). */
async function settleWith(call: ServerCall, result: PromiseLike<unknown>): Promise<void> {
  try {
    call.succeed(await result)
  } catch (error) {
    call.failed(error)
  }
}
