import type { ClientStream } from '../../client/client-stream.js'
import type { CallOptions } from '../../client/options.js'
import type { CallStream } from '../session.js'
import type { PlatformClient } from './platform-client.js'

/**
 * One call to `service` through the platform's `Proxy.Call {service, endpoint, request,
 * metadata?, timeout?, version?, namespace?}`, which answers with the service's reply (or
 * its error).
 */
export function proxyCall(
  platform: PlatformClient,
  namespace: string,
  service: string,
  endpoint: string,
  request: unknown,
  options: CallOptions,
): Promise<unknown> {
  const body = {
    service,
    endpoint,
    request,
    metadata: options.metadata,
    timeout: options.timeout,
    version: options.version,
    namespace: options.namespace ?? namespace,
  }
  return platform.call('Proxy.Call', body, { timeout: options.timeout, signal: options.signal })
}

/**
 * A stream to `service` through the platform's `Proxy.Stream`: the first message names the
 * target (`{service, endpoint, metadata?, namespace?}`), the rest are the caller's messages;
 * the replies are the service's.
 */
export function proxyStream(
  platform: PlatformClient,
  namespace: string,
  service: string,
  endpoint: string,
  options: CallOptions,
): CallStream {
  const inner = platform.stream('Proxy.Stream', { timeout: options.timeout, signal: options.signal })
  const target = {
    service,
    endpoint,
    metadata: options.metadata,
    version: options.version,
    namespace: options.namespace ?? namespace,
  }
  return new ProxiedStream(inner, target)
}

/** A client stream (opened once the login's token is read) whose first message, the target, goes before any of the caller's. */
class ProxiedStream implements CallStream {
  readonly #inner: Promise<ClientStream>
  readonly #opened: Promise<ClientStream>
  #canceled: string | undefined

  constructor(inner: Promise<ClientStream>, target: unknown) {
    this.#inner = inner
    this.#opened = inner.then(async (stream) => {
      await stream.send(target)
      return stream
    })
    // A failure to open surfaces through send() and iteration.
    this.#opened.catch(() => {})
  }

  async send(message: unknown): Promise<void> {
    await (await this.#opened).send(message)
  }

  async closeSend(): Promise<void> {
    await (await this.#opened).closeSend()
  }

  async sendAll(input: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    for await (const message of input) await this.send(message)
    await this.closeSend()
  }

  cancel(detail?: string): void {
    this.#canceled = detail ?? 'canceled'
    this.#inner.then((stream) => stream.cancel(detail)).catch(() => {})
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const stream = await this.#inner
    if (this.#canceled !== undefined) stream.cancel(this.#canceled)
    yield* stream
  }
}
