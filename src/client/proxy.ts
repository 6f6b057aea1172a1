import { badRequest, notFound } from '../errors/errors.js'
import type { Client } from './client.js'
import type { CallOptions } from './options.js'

export interface ServiceClientOptions extends CallOptions {
  /** The handler name (`Greeter` in `Greeter.Hello`). Found from the service's endpoints when omitted. */
  handler?: string
}

type Fn = (...args: any[]) => any

/** The request type of a streaming handler `(input: AsyncIterable<Req>, ctx) => AsyncIterable<Res>`. */
type StreamInput<F> = F extends (input: AsyncIterable<infer Req>, ...rest: any[]) => any ? Req : unknown

/**
 * `K` when it names an endpoint by the naming rule (an uppercase first letter, as the
 * server serves them), else never: helpers, `_names` and lowercase methods are not offered.
 */
export type EndpointKey<K> = K extends `${infer First}${string}`
  ? First extends Lowercase<First>
    ? never
    : K
  : never

/** The proxy method for a handler method `F`. */
export type ProxyMethod<F> = F extends (...args: any[]) => AsyncIterable<infer Res>
  ? (
      input: AsyncIterable<StreamInput<F>> | Iterable<StreamInput<F>>,
      options?: CallOptions,
    ) => AsyncIterable<Res>
  : F extends () => infer R
    ? // no argument needed (`Ping()`, or a request that is optional)
      (req?: Parameters<F>[0], options?: CallOptions) => Promise<Awaited<R>>
    : F extends (req: infer Req, ...rest: any[]) => infer R
      ? (req: Req, options?: CallOptions) => Promise<Awaited<R>>
      : never

/**
 * The typed client of a handler class: its endpoints (methods with an uppercase first
 * letter); unary methods return promises of their result, streaming (async generator)
 * methods take an iterable of requests and yield responses. Endpoints named explicitly
 * with lowercase names (`handle(obj, { endpoints })`) are called with `client.call`.
 */
export type ServiceClient<T> = {
  [K in keyof T as T[K] extends Fn ? EndpointKey<K> : never]: ProxyMethod<T[K]>
}

/** Property names a proxy must not answer, so it is never mistaken for a promise or serialised. */
const NOT_METHODS = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor', 'inspect'])

/** What a method name resolved to; `stream` is undefined when the registry does not say. */
interface Resolved {
  endpoint: string
  stream: boolean | undefined
}

/**
 * Build the proxy. A method's first call resolves `Hello` to `Greeter.Hello` and whether it
 * streams (the registry's endpoint metadata or the local server), then starts: a unary
 * call at once, awaited or not; a stream when its result is iterated. Later calls go
 * straight to `client.call` or open a stream.
 */
export function createServiceClient<T extends object>(
  client: Client,
  service: string,
  options: ServiceClientOptions,
): ServiceClient<T> {
  const { handler, ...rest } = options
  const base: CallOptions | undefined = Object.keys(rest).length > 0 ? rest : undefined
  const resolved = new Map<string, Resolved>()
  const resolving = new Map<string, Promise<Resolved>>()
  const resolve = (method: string): Promise<Resolved> => {
    let pending = resolving.get(method)
    if (!pending) {
      pending = resolveMethod(client, service, method, handler, base).then((r) => {
        resolved.set(method, r)
        return r
      })
      resolving.set(method, pending)
      pending.catch(() => resolving.delete(method))
    }
    return pending
  }
  const methods = new Map<string, Fn>()
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (typeof property !== 'string' || NOT_METHODS.has(property)) return undefined
      let fn = methods.get(property)
      if (!fn) {
        fn = (input: unknown, callOptions?: CallOptions) => {
          const merged =
            callOptions === undefined ? base : base === undefined ? callOptions : { ...base, ...callOptions }
          const known = resolved.get(property)
          if (known?.stream === false) return client.call(service, known.endpoint, input, merged)
          if (known?.stream === true) return streamCall(client, service, known.endpoint, input, merged)
          return new PendingCall(
            client,
            service,
            known ? Promise.resolve(known) : resolve(property),
            input,
            merged,
          )
        }
        methods.set(property, fn)
      }
      return fn
    },
  }) as ServiceClient<T>
}
async function resolveMethod(
  client: Client,
  service: string,
  method: string,
  handler: string | undefined,
  options: CallOptions | undefined,
): Promise<Resolved> {
  if (handler !== undefined) {
    const endpoint = `${handler}.${method}`
    const known = await client.endpointsOf(service, method, options).catch(() => [])
    return { endpoint, stream: known.find((e) => e.name === endpoint)?.stream }
  }
  const found = await client.endpointsOf(service, method, options)
  if (found.length === 1) return { endpoint: (found[0] as { name: string }).name, stream: found[0]?.stream }
  if (found.length === 0)
    throw notFound('micro.client', `service ${service} has no endpoint named *.${method}`)
  throw badRequest(
    'micro.client',
    `${method} is served by several handlers of ${service} (${found.map((e) => e.name).join(', ')}): pass { handler } to service()`,
  )
}

/** Stream `input` (an iterable of requests, or one request) to a streaming endpoint. */
async function* streamCall(
  client: Client,
  service: string,
  endpoint: string,
  input: unknown,
  options: CallOptions | undefined,
): AsyncGenerator<unknown> {
  const stream = client.stream(service, endpoint, options)
  const iterable =
    input !== null && typeof input === 'object' && (Symbol.asyncIterator in input || Symbol.iterator in input)
      ? (input as AsyncIterable<unknown> | Iterable<unknown>)
      : [input]
  // A server may finish before taking every request; only the responses decide the outcome.
  const sending = stream.sendAll(iterable).catch(() => {})
  yield* stream
  await sending
}

/** What a PendingCall became once its endpoint was resolved: a stream waiting to be iterated. */
const STREAM = Symbol('stream')

/**
 * A proxy method's result before its endpoint is resolved: a promise of the reply when
 * awaited, a stream when iterated. The unary call starts as soon as the endpoint is known
 * not to stream, whether or not anyone awaits it (`void proxy.Notify(x)` runs), and a
 * failure nobody awaits is an unhandled rejection, as with `client.call`. When the
 * registry cannot say (a `{ handler }` given for a service it does not list), an
 * AsyncIterable argument means a stream and anything else a unary call (an array is a
 * valid request).
 */
class PendingCall implements PromiseLike<unknown>, AsyncIterable<unknown> {
  readonly #started: Promise<unknown>
  #endpoint = ''
  #failure: unknown = undefined

  constructor(
    private readonly client: Client,
    private readonly service: string,
    resolved: Promise<Resolved>,
    private readonly input: unknown,
    private readonly options: CallOptions | undefined,
  ) {
    const streamShaped = isAsyncIterable(input)
    this.#started = resolved.then(
      (r) => {
        this.#endpoint = r.endpoint
        if (r.stream ?? streamShaped) return STREAM
        return client.call(service, r.endpoint, input, options)
      },
      (error: unknown) => {
        // Meant as a stream: the failure surfaces when it is iterated, not as an unhandled rejection.
        if (!streamShaped) throw error
        this.#failure = error
        return STREAM
      },
    )
  }

  #unary(): Promise<unknown> {
    return this.#started.then((value) => {
      if (this.#failure !== undefined) throw this.#failure
      if (value === STREAM) {
        throw badRequest('micro.client', `${this.#endpoint} is a streaming endpoint: iterate its result`)
      }
      return value
    })
  }

  // biome-ignore lint/suspicious/noThenProperty: awaiting a proxy method's result is how unary calls are made
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#unary().then(onFulfilled, onRejected)
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.#unary().catch(onRejected)
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.#unary().finally(onFinally)
  }

  /** A stream: opened now. A unary call (already started): its one reply. */
  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const value = await this.#started
    if (this.#failure !== undefined) throw this.#failure
    if (value !== STREAM) {
      yield value
      return
    }
    yield* streamCall(this.client, this.service, this.#endpoint, this.input, this.options)
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  )
}
