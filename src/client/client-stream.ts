import type { Codec } from '../codec/codec.js'
import { canceled, newError } from '../errors/errors.js'
import type { StreamChannel } from '../transport/transport.js'

/**
 * The client end of a bidirectional stream. Send requests with `send`, say you are done
 * with `closeSend` (half-close), read responses by iterating; breaking out of the loop
 * or `cancel()` cancels the call on the server.
 */
export class ClientStream<Req = unknown, Res = unknown> implements AsyncIterable<Res> {
  readonly #codec: Codec
  readonly #channel: Promise<StreamChannel>

  constructor(codec: Codec, open: () => Promise<StreamChannel>) {
    this.#codec = codec
    this.#channel = open()
    // Failures to open surface through send() and iteration.
    this.#channel.catch(() => {})
  }

  /** Send one request; resolves when the transport can take more. */
  async send(message: Req): Promise<void> {
    const channel = await this.#channel
    await channel.send(this.#codec.encode(message))
  }

  /** Half-close: no more requests; responses keep coming. */
  async closeSend(): Promise<void> {
    ;(await this.#channel).end()
  }

  /** Send every message of `input`, then half-close. */
  async sendAll(input: AsyncIterable<Req> | Iterable<Req>): Promise<void> {
    for await (const message of input) await this.send(message)
    await this.closeSend()
  }

  /** Abandon the stream; the server's handler sees its signal abort. */
  cancel(detail = 'stream canceled by the caller'): void {
    this.#channel.then(
      (channel) => channel.fail(canceled('micro.client', detail)),
      () => {},
    )
  }

  /** The replies, in order, until the server ends the stream (a server error is thrown here). */
  async *[Symbol.asyncIterator](): AsyncIterator<Res> {
    const channel = await this.#channel
    for await (const bytes of channel.messages) {
      let value: Res
      try {
        value = this.#codec.decode(bytes) as Res
      } catch (error) {
        const e = newError('micro.client', `cannot decode a stream message: ${(error as Error).message}`, 502)
        channel.fail(e)
        throw e
      }
      yield value
    }
  }
}
