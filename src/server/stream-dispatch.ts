import type { Codec } from '../codec/codec.js'
import { badRequest, internalServerError, MicroError } from '../errors/errors.js'
import type { StreamChannel } from '../transport/transport.js'
import type { EndpointDefinition, HandlerFn } from './handlers.js'
import { validate } from './schema.js'
import type { ServedCall } from './server-call.js'

/** A registered endpoint with its wrapped invoker. */
export interface Entry extends EndpointDefinition {
  invoke: HandlerFn
}

/**
 * Serve one stream: decode (and validate) each inbound message for the handler, send each
 * value it yields, and end or fail the channel. A unary endpoint opened as a stream takes
 * the first message and answers once.
 */
export async function serveStream(
  entry: Entry,
  codec: Codec,
  ctx: ServedCall,
  channel: StreamChannel,
  service: string,
): Promise<void> {
  const input = decodeMessages(channel.messages, codec, entry, service)
  try {
    if (entry.stream) {
      // A wrapper written for unary calls (`async (req, ctx) => next(req, ctx)`) hands back
      // a promise of the handler's AsyncIterable: take what it resolves to.
      let output = entry.invoke(input, ctx) as AsyncIterable<unknown> | PromiseLike<unknown> | undefined
      if (isThenable(output)) output = (await output) as AsyncIterable<unknown> | undefined
      if (!output || typeof output[Symbol.asyncIterator] !== 'function') {
        throw internalServerError(service, `${entry.name} must return an AsyncIterable`)
      }
      for await (const item of output) {
        if (channel.signal.aborted) break
        await channel.send(codec.encode(item))
      }
    } else {
      const first = await input.next()
      if (first.done) throw badRequest(service, `${entry.name} needs a request message`)
      const result = await entry.invoke(first.value, ctx)
      await channel.send(codec.encode(result))
    }
    channel.end()
  } catch (error) {
    channel.fail(MicroError.from(error, service))
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function'
}

async function* decodeMessages(
  messages: AsyncIterable<Uint8Array>,
  codec: Codec,
  entry: Entry,
  service: string,
): AsyncGenerator<unknown> {
  for await (const bytes of messages) {
    let value: unknown
    try {
      value = codec.decode(bytes)
    } catch (error) {
      throw badRequest(service, `invalid ${codec.contentType} message: ${(error as Error).message}`)
    }
    yield entry.request ? await validate(entry.request, value, service, 'message') : value
  }
}
