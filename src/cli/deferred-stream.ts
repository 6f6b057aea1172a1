import type { ClientStream } from '../client/client-stream.js'
import type { CallStream } from './session.js'

/**
 * A stream opened once something it needs is at hand (the user's token: reading, and maybe
 * refreshing, the kept login is asynchronous while `Session.stream` is not). Sends wait
 * for it; a failure to open surfaces through `send()` and iteration, as `mapError` makes it.
 */
export class DeferredStream implements CallStream {
  readonly #opened: Promise<ClientStream>
  readonly #mapError: (error: unknown) => unknown
  #canceled: string | undefined

  constructor(opened: Promise<ClientStream>, mapError: (error: unknown) => unknown = (e) => e) {
    this.#opened = opened
    this.#mapError = mapError
    this.#opened.catch(() => {})
  }

  async send(message: unknown): Promise<void> {
    await this.#mapped(async () => (await this.#opened).send(message))
  }

  async closeSend(): Promise<void> {
    await this.#mapped(async () => (await this.#opened).closeSend())
  }

  async sendAll(input: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    for await (const message of input) await this.send(message)
    await this.closeSend()
  }

  cancel(detail?: string): void {
    this.#canceled = detail ?? 'canceled'
    this.#opened.then((stream) => stream.cancel(detail)).catch(() => {})
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const stream = await this.#mapped(() => this.#opened)
    if (this.#canceled !== undefined) stream.cancel(this.#canceled)
    try {
      yield* stream
    } catch (error) {
      throw this.#mapError(error)
    }
  }

  async #mapped<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      throw this.#mapError(error)
    }
  }
}
