import type { Client } from '../../client/client.js'
import type { CallOptions } from '../../client/options.js'
import type { Context } from '../../server/context.js'
import {
  type Fields,
  fields,
  invalid,
  namespaceOf,
  optionalNumber,
  optionalString,
  optionalStringMap,
  requiredString,
} from './wire.js'

/**
 * Calls to any service through the platform, for callers that cannot reach the services
 * themselves (a remote CLI, another language over HTTP): served as `Proxy`: `Proxy.Call` (unary) and
 * `Proxy.Stream` (bidirectional), forwarded with the server's client, so the server's
 * registry finds the target. The caller's deadline, cancellation and metadata are carried on.
 */
export class ProxyHandler {
  readonly #client: Client

  constructor(client: Client) {
    this.#client = client
  }

  /**
   * `{service, endpoint, request, metadata?, timeout?, version?, namespace?}` → the
   * service's reply, as it answered.
   */
  async Call(request: unknown, ctx: Context): Promise<unknown> {
    const req = fields(request, 'Proxy.Call')
    const service = requiredString(req, 'service')
    const endpoint = requiredString(req, 'endpoint')
    const timeout = optionalNumber(req, 'timeout')
    if (timeout !== undefined && timeout <= 0) throw invalid('timeout must be a positive number of ms')
    return this.#client.call(service, endpoint, req.request ?? {}, { ...callOptions(req, ctx), timeout })
  }

  /**
   * The first message is `{service, endpoint, metadata?, namespace?, version?}`; every later
   * message is sent to the service as a request, and every reply comes back as it is. A
   * half-close is passed on; a cancel cancels the service's stream.
   */
  async *Stream(input: AsyncIterable<unknown>, ctx: Context): AsyncGenerator<unknown> {
    const iterator = input[Symbol.asyncIterator]()
    const first = await iterator.next()
    if (first.done) throw invalid('Proxy.Stream needs a first message {service, endpoint, ...}')
    const req = fields(first.value, 'Proxy.Stream')
    const service = requiredString(req, 'service')
    const endpoint = requiredString(req, 'endpoint')
    const downstream = this.#client.stream(service, endpoint, callOptions(req, ctx))
    void (async () => {
      try {
        for (;;) {
          const next = await iterator.next()
          if (next.done) break
          await downstream.send(next.value)
        }
        await downstream.closeSend()
      } catch {
        downstream.cancel('the caller of Proxy.Stream went away')
      }
    })()
    let finished = false
    try {
      yield* downstream
      finished = true
    } finally {
      if (!finished) downstream.cancel('the caller of Proxy.Stream stopped reading')
    }
  }
}

function callOptions(req: Fields, ctx: Context): CallOptions {
  return {
    context: ctx,
    metadata: optionalStringMap(req, 'metadata'),
    version: optionalString(req, 'version'),
    namespace: namespaceOf(req),
  }
}
