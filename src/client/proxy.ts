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

/**
 * Build the proxy. Each method call returns a PendingCall: awaiting it makes a unary call,
 * iterating it opens a stream, so one proxy serves both without knowing which the
 * endpoint is ahead of time.
 */
export function createServiceClient<T extends object>(
  client: Client,
  service: string,
  options: ServiceClientOptions,
): ServiceClient<T> {
  const { handler, ...callOptions } = options
  const methods = new Map<string, Fn>()
  const resolved = new Map<string, Promise<string>>()
  const resolve = (method: string): Promise<string> => {
    if (handler) return Promise.resolve(`${handler}.${method}`)
    let endpoint = resolved.get(method)
    if (!endpoint) {
      endpoint = resolveEndpoint(client, service, method, callOptions)
      resolved.set(method, endpoint)
      endpoint.catch(() => resolved.delete(method))
    }
    return endpoint
  }
  return new Proxy(Object.create(null) as object, {
    get(_target, property) {
      if (typeof property !== 'string' || NOT_METHODS.has(property)) return undefined
      let fn = methods.get(property)
      if (!fn) {
        fn = (input: unknown, options?: CallOptions) =>
          new PendingCall(client, service, () => resolve(property), input, { ...callOptions, ...options })
        methods.set(property, fn)
      }
      return fn
    },
  }) as ServiceClient<T>
}

async function resolveEndpoint(
  client: Client,
  service: string,
  method: string,
  options: CallOptions,
): Promise<string> {
  const names = await client.endpointsNamed(service, method, options)
  if (names.length === 1) return names[0] as string
  if (names.length === 0)
    throw notFound('micro.client', `service ${service} has no endpoint named *.${method}`)
  throw badRequest(
    'micro.client',
    `${method} is served by several handlers of ${service} (${names.join(', ')}): pass { handler } to service()`,
  )
}

/** A proxy method's result: a promise of the reply when awaited, a stream when iterated. */
class PendingCall implements PromiseLike<unknown>, AsyncIterable<unknown> {
  #promise: Promise<unknown> | undefined

  constructor(
    private readonly client: Client,
    private readonly service: string,
    private readonly endpoint: () => Promise<string>,
    private readonly input: unknown,
    private readonly options: CallOptions,
  ) {}

  #unary(): Promise<unknown> {
    this.#promise ??= this.endpoint().then((endpoint) =>
      this.client.call(this.service, endpoint, this.input, this.options),
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
    const endpoint = await this.endpoint()
    const stream = this.client.stream(this.service, endpoint, this.options)
    const input = this.input
    const iterable =
      input !== null &&
      typeof input === 'object' &&
      (Symbol.asyncIterator in input || Symbol.iterator in input)
        ? (input as AsyncIterable<unknown> | Iterable<unknown>)
        : [input]
    // A server may finish before taking every request; only the responses decide the outcome.
    const sending = stream.sendAll(iterable).catch(() => {})
    yield* stream
    await sending
  }
}
