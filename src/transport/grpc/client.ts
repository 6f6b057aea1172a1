import type { DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf'
import type { Client } from '../../client/client.js'
import type { CallOptions } from '../../client/options.js'
import { protobufCodec, toMessage } from '../../codec/protobuf.js'
import { badRequest } from '../../errors/errors.js'

type Kind<M> = M extends { methodKind: infer K } ? K : never
type In<M> = M extends { input: infer I extends DescMethod['input'] } ? I : never
type Out<M> = M extends { output: infer O extends DescMethod['output'] } ? O : never
type Requests<M> = AsyncIterable<MessageInitShape<In<M>>> | Iterable<MessageInitShape<In<M>>>

/** One RPC as a typed client method, by its kind (as Connect's `Client` has them). */
export type GrpcClientMethod<M> =
  Kind<M> extends 'unary'
    ? (request: MessageInitShape<In<M>>, options?: CallOptions) => Promise<MessageShape<Out<M>>>
    : Kind<M> extends 'server_streaming'
      ? (request: MessageInitShape<In<M>>, options?: CallOptions) => AsyncIterable<MessageShape<Out<M>>>
      : Kind<M> extends 'client_streaming'
        ? (requests: Requests<M>, options?: CallOptions) => Promise<MessageShape<Out<M>>>
        : (requests: Requests<M>, options?: CallOptions) => AsyncIterable<MessageShape<Out<M>>>

/** A typed client of a protobuf service: one method per RPC, by `localName`. */
export type GrpcClient<S extends DescService> = {
  [K in keyof S['method']]: GrpcClientMethod<S['method'][K]>
}

/**
 * A typed client for a protobuf service run by `serviceName`, over the micro client: the
 * node is found in the registry and reached with its transport (gRPC for gRPC nodes, in
 * process when it runs here), with the client's deadlines, retries, resilience policies
 * and wrappers. Messages travel as protobuf.
 *
 * ```ts
 * const greeter = grpcClient(service.client, Greeter, 'greeter')
 * const { message } = await greeter.sayHello({ name: 'Alice' })
 * for await (const reply of greeter.lots({ name: 'Bob' })) console.log(reply.message)
 * ```
 */
export function grpcClient<S extends DescService>(
  client: Client,
  service: S,
  serviceName: string,
  defaults: CallOptions = {},
): GrpcClient<S> {
  const methods: Record<string, unknown> = {}
  for (const method of service.methods)
    methods[method.localName] = clientMethod(client, method, serviceName, defaults)
  return methods as GrpcClient<S>
}

function clientMethod(client: Client, method: DescMethod, serviceName: string, defaults: CallOptions) {
  const endpoint = `${method.parent.name}.${method.name}`
  const codec = protobufCodec(method.input, method.output)
  const { input, output } = method
  const optionsOf = (options: CallOptions | undefined): CallOptions => ({ ...defaults, ...options, codec })
  const open = (options: CallOptions | undefined) => client.stream(serviceName, endpoint, optionsOf(options))
  switch (method.methodKind) {
    case 'unary':
      return async (request: unknown, options?: CallOptions) =>
        // In-process calls hand the request over as it is and may get a plain object back.
        toMessage(
          output,
          await client.call(serviceName, endpoint, toMessage(input, request), optionsOf(options)),
        )
    case 'server_streaming':
      return (request: unknown, options?: CallOptions) =>
        replies(output, async function* () {
          const stream = open(options)
          await stream.send(toMessage(input, request))
          await stream.closeSend()
          yield* stream
        })
    case 'client_streaming':
      return async (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions) => {
        const stream = open(options)
        const sending = sendAll(stream, input, requests)
        for await (const reply of stream) {
          await sending
          return toMessage(output, reply)
        }
        await sending
        throw badRequest('micro.client', `${endpoint} ended without a reply`)
      }
    case 'bidi_streaming':
      return (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions) =>
        replies(output, async function* () {
          const stream = open(options)
          const sending = sendAll(stream, input, requests)
          // A send failure surfaces through the replies (the stream fails), not as an unhandled rejection.
          sending.catch(() => {})
          yield* stream
          await sending
        })
  }
}

async function sendAll(
  stream: { send(m: unknown): Promise<void>; closeSend(): Promise<void>; cancel(detail?: string): void },
  input: DescMethod['input'],
  requests: AsyncIterable<unknown> | Iterable<unknown>,
): Promise<void> {
  try {
    for await (const request of requests) await stream.send(toMessage(input, request))
    await stream.closeSend()
  } catch (error) {
    stream.cancel(`sending failed: ${(error as Error).message}`)
    throw error
  }
}

async function* replies(
  output: DescMethod['output'],
  source: () => AsyncGenerator<unknown>,
): AsyncGenerator<unknown> {
  for await (const reply of source()) yield toMessage(output, reply)
}
