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
 * The typed client of a handler class: unary methods return promises of their result,
 * streaming (async generator) methods take an iterable of requests and yield responses.
 */
export type ServiceClient<T> = {
  [K in keyof T as T[K] extends Fn
    ? K extends `_${string}` | 'constructor'
      ? never
      : K
    : never]: T[K] extends (...args: any[]) => AsyncIterable<infer Res>
    ? (
        input: AsyncIterable<StreamInput<T[K]>> | Iterable<StreamInput<T[K]>>,
        options?: CallOptions,
      ) => AsyncIterable<Res>
    : T[K] extends (req: infer Req, ...rest: any[]) => infer R
      ? (req: Req, options?: CallOptions) => Promise<Awaited<R>>
      : never
}

/** Property names a proxy must not answer, so it is never mistaken for a promise or serialised. */
const NOT_METHODS = new Set(['then', 'catch', 'finally', 'toJSON', 'constructor', 'inspect'])

/** What a method name resolved to; `stream` is undefined when the registry does not say. */
interface Resolved {
  endpoint: string
  stream: boolean | undefined
}

/**
 * Build the proxy. Once a method is resolved, its calls go straight to `client.call` (or
 * open a stream). Before that, a call returns a PendingCall: a promise when awaited, a
 * stream when iterated, so the proxy needs no runtime knowledge of which endpoints stream.
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
          return new PendingCall(client, service, () => resolve(property), input, merged)
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

/** A proxy method's result before resolution: a promise of the reply when awaited, a stream when iterated. */
class PendingCall implements PromiseLike<unknown>, AsyncIterable<unknown> {
  #promise: Promise<unknown> | undefined

  constructor(
    private readonly client: Client,
    private readonly service: string,
    private readonly resolve: () => Promise<Resolved>,
    private readonly input: unknown,
    private readonly options: CallOptions | undefined,
  ) {}

  #unary(): Promise<unknown> {
    this.#promise ??= this.resolve().then((r) =>
      this.client.call(this.service, r.endpoint, this.input, this.options),
    )
    return this.#promise
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

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const { endpoint } = await this.resolve()
    yield* streamCall(this.client, this.service, endpoint, this.input, this.options)
  }
}
