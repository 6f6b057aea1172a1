import { type Codecs, defaultCodecs } from '../codec/codecs.js'
import { badRequest, MicroError, newError, notFound, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import type { EndpointRecord } from '../registry/registry.js'
import type { CallInfo, Dispatcher, InboundCall, StreamChannel } from '../transport/transport.js'
import { DeadlineList } from '../util/deadline-list.js'
import type { Metadata } from './context.js'
import { endpointsOf, type HandleOptions } from './handlers.js'
import { validate } from './schema.js'
import { type CallOwner, ServedCall } from './server-call.js'
import { type Entry, serveStream } from './stream-dispatch.js'
import { applyWrappers, type HandlerWrapper } from './wrappers.js'

/** Options of {@link Server}. */
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
  /** Calls and streams being served, with their deadlines. */
  readonly inFlight = new DeadlineList()
  #draining = false

  constructor(options: ServerOptions) {
    this.name = options.name
    this.#codecs = options.codecs ?? defaultCodecs
    this.#wrappers = [...(options.wrappers ?? [])]
    this.#logger = options.logger ?? createLogger({ fields: { service: options.name } })
  }

  /**
   * Register the endpoints of `target` as `Name.Method`: its methods whose names start with
   * an uppercase letter, or those `options.endpoints` names. Throws when there are none.
   */
  handle(target: object, options?: HandleOptions): this {
    const definitions = endpointsOf(target, options)
    for (const d of definitions) {
      if (this.#entries.has(d.name)) throw new TypeError(`endpoint ${d.name} is already registered`)
    }
    for (const d of definitions) {
      const entry: Entry = { ...d, invoke: d.fn }
      this.#wrapEntry(entry)
      this.#entries.set(d.name, entry)
    }
    return this
  }

  /**
   * Add server wrappers (middleware); they apply to every endpoint, unary and streaming,
   * first one outermost. See {@link HandlerWrapper} for what a wrapper sees.
   */
  wrap(...wrappers: HandlerWrapper[]): this {
    this.#wrappers.push(...wrappers)
    // Entries are updated in place: clients cache them for in-process calls.
    for (const entry of this.#entries.values()) this.#wrapEntry(entry)
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

  /** Whether `endpoint` streams; undefined when it is not served here. */
  streaming(endpoint: string): boolean | undefined {
    return this.#entries.get(endpoint)?.stream
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

  /**
   * Why a call to `endpoint` cannot be served here (unknown endpoint, draining), or
   * undefined when it can. In-process callers get the same errors as remote ones.
   */
  refusal(endpoint: string, stream: boolean): MicroError | undefined {
    const entry = this.#entries.get(endpoint)
    if (entry === undefined) return this.#unknownEndpoint(endpoint)
    if (this.#draining) return serviceUnavailable(this.name, `${this.name} is shutting down`)
    if (entry.stream && !stream) {
      return badRequest(
        this.name,
        `${entry.name} is a streaming endpoint: open a stream to call it (not over plain HTTP)`,
      )
    }
    return undefined
  }

  unary(call: InboundCall): void {
    const entry = this.#entries.get(call.endpoint)
    const codecs = entry?.codecs ?? this.#codecs
    const codec = codecs.get(call.headers['content-type'])
    if (entry === undefined || entry.stream || this.#draining || codec === undefined) {
      call.fail(this.refusal(call.endpoint, false) ?? this.#unsupported(call.headers['content-type'], codecs))
      return
    }
    let req: unknown
    try {
      req = codec.decode(call.body)
    } catch (error) {
      call.fail(badRequest(this.name, `invalid ${codec.contentType} body: ${(error as Error).message}`))
      return
    }
    this.#run(entry, req, ServedCall.remote(this, call, codec, entry.name, call.timeout))
  }

  /** Serve a stream call (the transport's {@link Dispatcher.stream}). */
  stream(call: CallInfo, channel: StreamChannel): void {
    const entry = this.#entries.get(call.endpoint)
    const codecs = entry?.codecs ?? this.#codecs
    const codec = codecs.get(call.headers['content-type'])
    const refusal =
      this.refusal(call.endpoint, true) ??
      (codec ? undefined : this.#unsupported(call.headers['content-type'], codecs))
    if (refusal !== undefined || entry === undefined || codec === undefined) {
      channel.fail(refusal ?? this.#unknownEndpoint(call.endpoint))
      return
    }
    const ctx = ServedCall.stream(this, call, entry.name, call.timeout, channel)
    serveStream(entry, codec, ctx, channel, this.name).finally(() => ctx.finish())
  }

  /**
   * Run an endpoint for an in-process caller: no codec, the same validation, wrappers,
   * deadline (`timeoutMs` from now, or exactly `deadline`, epoch ms, when the caller has
   * one: a handler calling on) and cancellation (`signal`) as remote calls.
   */
  invoke(
    entry: Entry,
    req: unknown,
    metadata: Metadata,
    timeoutMs: number | undefined,
    signal?: AbortSignal,
    deadline?: number,
  ): Promise<unknown> {
    const call = ServedCall.local(this, entry.name, metadata, timeoutMs, deadline)
    const promise = call.promise()
    if (signal) call.cancelOn(signal)
    this.#run(entry, req, call)
    return promise
  }

  #run(entry: Entry, req: unknown, call: ServedCall): void {
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
    if (isThenable(result)) {
      result.then(
        (value) => call.succeed(value),
        (error: unknown) => call.failed(error),
      )
    } else {
      call.succeed(result)
    }
  }

  /** Normalise a handler failure; unexpected ones (plain errors) are logged with their stack. */
  failure(error: unknown, endpoint: string): MicroError {
    const microError = MicroError.from(error, this.name)
    if (!(error instanceof MicroError) && microError.code === 500) {
      this.#logger.error('handler failed', { endpoint, error })
    }
    return microError
  }

  #wrapEntry(entry: Entry): void {
    const info = { service: this.name, name: entry.name, stream: entry.stream, scopes: entry.scopes }
    entry.invoke = applyWrappers(entry.fn, this.#wrappers, info)
  }

  #unknownEndpoint(endpoint: string): MicroError {
    return notFound(this.name, `endpoint ${endpoint} not found on service ${this.name}`)
  }

  #unsupported(contentType: string | undefined, codecs: Codecs): MicroError {
    return newError(
      this.name,
      `unsupported content type ${contentType}: use one of ${codecs.contentTypes().join(', ')}`,
      415,
    )
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  )
}
