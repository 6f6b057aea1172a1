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

/** A client stream whose first message (the target) is sent before any of the caller's. */
class ProxiedStream implements CallStream {
  readonly #inner: ClientStream
  readonly #opened: Promise<void>

  constructor(inner: ClientStream, target: unknown) {
    this.#inner = inner
    this.#opened = inner.send(target)
    // A failure to open surfaces through send() and iteration.
    this.#opened.catch(() => {})
  }

  async send(message: unknown): Promise<void> {
    await this.#opened
    await this.#inner.send(message)
  }

  async closeSend(): Promise<void> {
    await this.#opened
    await this.#inner.closeSend()
  }

  async sendAll(input: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    for await (const message of input) await this.send(message)
    await this.closeSend()
  }

  cancel(detail?: string): void {
    this.#inner.cancel(detail)
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.#inner[Symbol.asyncIterator]()
  }
}
