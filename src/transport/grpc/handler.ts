import {
  type DescMessage,
  type DescMethod,
  type DescService,
  fromJson,
  isMessage,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
  toJson,
} from '@bufbuild/protobuf'
import { Codecs } from '../../codec/codecs.js'
import { protobufCodec, protobufJsonCodec, toMessage } from '../../codec/protobuf.js'
import { badRequest } from '../../errors/errors.js'
import type { Context } from '../../server/context.js'
import type { EndpointOptions } from '../../server/endpoint.js'
import type { HandlerFn } from '../../server/handlers.js'
import { rememberService } from './descriptors.js'
import { type GrpcRegistration, markGrpcRegistration } from './registration.js'

type Kind<M> = M extends { methodKind: infer K } ? K : never
type In<M> = M extends { input: infer I extends DescMethod['input'] } ? I : never
type Out<M> = M extends { output: infer O extends DescMethod['output'] } ? O : never
type Reply<M> = MessageInitShape<Out<M>> | MessageShape<Out<M>>

/** The handler of one gRPC method, by its kind (as Connect's `ServiceImpl` has them). */
export type GrpcMethodImpl<M> =
  Kind<M> extends 'unary'
    ? (request: MessageShape<In<M>>, ctx: Context) => Reply<M> | Promise<Reply<M>>
    : Kind<M> extends 'server_streaming'
      ? (request: MessageShape<In<M>>, ctx: Context) => AsyncIterable<Reply<M>>
      : Kind<M> extends 'client_streaming'
        ? (requests: AsyncIterable<MessageShape<In<M>>>, ctx: Context) => Promise<Reply<M>>
        : (requests: AsyncIterable<MessageShape<In<M>>>, ctx: Context) => AsyncIterable<Reply<M>>

/**
 * The handler interface of a protobuf service: one method per RPC, named by its `localName`
 * (`sayHello` for `SayHello`), typed from the descriptor `protoc-gen-es` generated:
 *
 * ```ts
 * const greeter: GrpcHandler<typeof Greeter> = {
 *   async sayHello(req) { return { message: `Hello ${req.name}` } },
 * }
 * service.handle(...grpcHandler(Greeter, greeter))
 * ```
 */
export type GrpcHandler<S extends DescService> = {
  [K in keyof S['method']]: GrpcMethodImpl<S['method'][K]>
}

/**
 * Serve a protobuf service: its RPCs become endpoints `<Service>.<Method>` (`Greeter.SayHello`),
 * answered over gRPC at `/<package>.<Service>/<Method>`, and over the micro protocol, HTTP
 * and in-process like any endpoint. Requests and replies are protobuf on gRPC and with
 * `application/protobuf`, protobuf's JSON mapping with `application/json`. Streaming kinds
 * map onto micro streams; `option idempotency_level` (NO_SIDE_EFFECTS, IDEMPOTENT) marks the
 * endpoint idempotent, so clients may retry and hedge it. Descriptors are kept for server
 * reflection.
 */
export function grpcHandler<S extends DescService>(service: S, impl: GrpcHandler<S>): GrpcRegistration {
  rememberService(service)
  const target: Record<string, HandlerFn> = {}
  const endpoints: Record<string, EndpointOptions> = {}
  const codecs: Record<string, Codecs> = {}
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName]
    if (typeof fn !== 'function') {
      throw new TypeError(
        `the handler of ${service.typeName} has no method ${method.localName} (${method.name})`,
      )
    }
    target[method.name] = adapt(method, (fn as (...args: unknown[]) => unknown).bind(impl))
    endpoints[method.name] = {
      stream: method.methodKind !== 'unary',
      idempotent: method.idempotency === NO_SIDE_EFFECTS || method.idempotency === IDEMPOTENT,
      metadata: { grpc: `/${service.typeName}/${method.name}`, 'grpc-kind': method.methodKind },
    }
    codecs[method.name] = new Codecs([
      protobufCodec(method.output, method.input),
      protobufJsonCodec(method.output, method.input),
    ])
  }
  return markGrpcRegistration([target, { name: service.name, endpoints, codecs }])
}

const NO_SIDE_EFFECTS = 1
const IDEMPOTENT = 2

/**
 * The micro endpoint function for a method: unary as it is, the streaming kinds as streams.
 * Remote calls arrive as messages (the codec made them). An in-process caller may pass a
 * plain object instead (`client.call` with JSON-style values, the gateway): it is read with
 * protobuf's JSON mapping, and a unary reply to it is given back in that mapping too, as a
 * remote JSON caller would get it.
 */
function adapt(method: DescMethod, fn: (...args: unknown[]) => unknown): HandlerFn {
  const { input, output } = method
  const requests = async function* (source: AsyncIterable<unknown>) {
    for await (const value of source) yield asRequest(input, value, method)
  }
  switch (method.methodKind) {
    case 'unary':
      return (req: unknown, ctx: Context) => {
        if (isMessage(req, input)) return fn(req, ctx)
        return Promise.resolve(fn(asRequest(input, req, method), ctx)).then((reply) =>
          toJson(output, toMessage(output, reply)),
        )
      }
    case 'server_streaming':
      return async function* (source: AsyncIterable<unknown>, ctx: Context) {
        const first = await firstOf(requests(source), method)
        for await (const reply of fn(first, ctx) as AsyncIterable<unknown>) yield toMessage(output, reply)
      }
    case 'client_streaming':
      return async function* (source: AsyncIterable<unknown>, ctx: Context) {
        yield toMessage(output, await fn(requests(source), ctx))
      }
    case 'bidi_streaming':
      return async function* (source: AsyncIterable<unknown>, ctx: Context) {
        for await (const reply of fn(requests(source), ctx) as AsyncIterable<unknown>)
          yield toMessage(output, reply)
      }
  }
}

/** A request as a message of `schema`: as it is when it is one, else read with protobuf's JSON mapping (400 when it does not fit). */
function asRequest(schema: DescMessage, value: unknown, method: DescMethod): unknown {
  if (isMessage(value, schema)) return value
  try {
    return fromJson(schema, value as JsonValue)
  } catch (error) {
    throw badRequest(
      'micro.server',
      `invalid ${method.parent.name}.${method.name} request: ${(error as Error).message}`,
    )
  }
}

/** The one request of a server-streaming call (the client sends it, then half-closes). */
async function firstOf(input: AsyncIterable<unknown>, method: DescMethod): Promise<unknown> {
  for await (const message of input) return message
  throw badRequest('micro.server', `${method.parent.name}.${method.name} needs a request message`)
}
