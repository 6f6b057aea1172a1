import { MicroError, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import type { Broker, DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { closedError } from './names.js'
import { type LocalSubscription, newSubscription, unsubscribeAll } from './subscription.js'

/**
 * What every engine shares: the connection opened once on first use (concurrent callers
 * share the attempt, a failed attempt is retried by the next call), the subscribe steps
 * (check, attach to the engine, undo on failure, watch the abort signal), close (end every
 * subscription, then release the connection), and the 503s of a closed or unreachable
 * engine. An engine supplies `open`, `attach`, `release` and `publish`. `C` is what `open`
 * makes (a client, a connection and its channels); engines without one use `void`.
 */
export abstract class BaseBroker<C> implements Broker {
  readonly name: string
  protected readonly logger: Logger
  protected readonly subscriptions = new Set<LocalSubscription>()
  #connection: Promise<C> | undefined
  /** What `#connection` resolved to. */
  #opened: C | undefined
  #closed = false

  constructor(name: string, logger: Logger | undefined) {
    this.name = name
    this.logger = logger ?? createLogger({ fields: { component: 'broker', broker: name } })
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed
  }

  async connect(): Promise<void> {
    await this.connection()
  }

  abstract publish(topic: string, message: OutgoingMessage): Promise<void>

  async subscribe(
    topic: string,
    handler: DeliveryHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.#closed) throw closedError(this.name)
    const publish = (to: string, message: OutgoingMessage) => this.publish(to, message)
    const sub = newSubscription(this.name, this.subscriptions, this.logger, topic, handler, publish, options)
    try {
      await this.attach(sub)
    } catch (error) {
      await sub.unsubscribe()
      throw this.failure(error)
    }
    if (this.#closed) {
      await sub.unsubscribe()
      throw closedError(this.name)
    }
    sub.watchSignal()
    return sub
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await unsubscribeAll(this.subscriptions)
    await this.release(await this.#connection?.catch(() => undefined))
  }

  /** The engine connection, opened on first use; rejects with a 503 after close(). */
  protected connection(): Promise<C> {
    if (this.#closed) return Promise.reject(closedError(this.name))
    if (this.#connection === undefined) {
      const opening = this.open()
      this.#connection = opening
      opening.then(
        (connected) => {
          if (this.#connection === opening) this.#opened = connected
        },
        () => {
          if (this.#connection === opening) this.#connection = undefined
        },
      )
    }
    return this.#connection
  }

  /** Forget a connection that is gone for good (if still the current one), so the next call opens another. */
  protected forgetConnection(connected: C): void {
    if (this.#opened !== connected) return
    this.#opened = undefined
    this.#connection = undefined
  }

  /** Open the engine connection; reject with `unreachable(...)` when the server cannot be reached. */
  protected abstract open(): Promise<C>

  /**
   * Route the engine's messages for `sub` to `sub.inbox`, and set `sub.detach` to what
   * stops that, as soon as there is something to undo: if attach throws, the subscription
   * is ended (which runs `detach`) and the error is passed on through `failure`.
   */
  protected abstract attach(sub: LocalSubscription): Promise<void>

  /** Release the connection (undefined when none was opened) and any timers; subscriptions have ended. */
  protected abstract release(connection: C | undefined): Promise<void>

  /** An engine error as the MicroError a caller gets: a 503 unless it already is one. */
  protected failure(error: unknown): MicroError {
    if (error instanceof MicroError) return error
    if (this.#closed) return closedError(this.name)
    return serviceUnavailable('micro.broker', `${this.name} broker: ${(error as Error).message}`)
  }

  /** The 503 of a server that cannot be reached. */
  protected unreachable(address: string, error: unknown): MicroError {
    return serviceUnavailable(
      'micro.broker',
      `${this.name} broker: cannot connect to ${address}: ${(error as Error).message}`,
    )
  }
}
