import type { Redis, RedisOptions } from 'ioredis'
import { importPeer } from '../util/optional-import.js'

/**
 * An ioredis client that fails fast and clearly when Redis goes away, shared by the Redis
 * store and sync. ioredis on its own keeps a command that was in flight when the
 * connection dropped until Redis is back (and then sends it again), which would leave a
 * caller hanging for as long as Redis is down. Here such commands are rejected as soon as
 * the connection closes and never resent; commands issued while disconnected fail after
 * one reconnect attempt.
 */
export class RedisLink<C extends Redis = Redis> {
  readonly client: C
  readonly #where: string
  #lastError = ''

  private constructor(client: C, where: string) {
    this.client = client
    this.#where = where
    client.on('error', (error: Error) => {
      this.#lastError = error.message
    })
    // ioredis emits 'close' on the next tick, after moving the commands in flight aside
    // for resending and before it reconnects: reject those commands now.
    client.on('close', () => {
      const queue = client as unknown as {
        flushQueue(error: Error, options: { offlineQueue: boolean; commandQueue: boolean }): void
      }
      queue.flushQueue(new Error(`connection to redis at ${this.#where} lost${this.#reason()}`), {
        offlineQueue: false,
        commandQueue: true,
      })
    })
  }

  /** A client for `address` (it connects in the background) with extra ioredis options. */
  static async open<C extends Redis = Redis>(
    address: string,
    usedBy: string,
    extra: RedisOptions = {},
  ): Promise<RedisLink<C>> {
    const { Redis } = await importPeer<typeof import('ioredis')>('ioredis', usedBy)
    const client = new Redis(address, {
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * times, 1000),
      connectTimeout: 5000,
      ...extra,
    }) as C
    return new RedisLink(client, new URL(address).host)
  }

  /** Runs one command, with a clear error when Redis cannot be reached. */
  run<T>(command: (client: C) => Promise<T>): Promise<T> {
    return command(this.client).catch((error: unknown) => {
      throw this.explain(error)
    })
  }

  /** ioredis's "max retries per request" as "cannot reach redis at host:port (why)". */
  explain(error: unknown): unknown {
    if ((error as Error | undefined)?.name === 'MaxRetriesPerRequestError')
      return new Error(`cannot reach redis at ${this.#where}${this.#reason()}`, { cause: error })
    return error
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect())
  }

  #reason(): string {
    return this.#lastError ? ` (${this.#lastError})` : ''
  }
}
