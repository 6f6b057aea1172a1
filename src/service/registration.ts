import type { Logger } from '../logger/logger.js'
import type { Registry, ServiceRecord } from '../registry/registry.js'

/** What a Registration needs. */
export interface RegistrationOptions {
  registry: Registry
  namespace: string
  /** How long a registration lives without renewal, ms. */
  ttl: number
  /** How often it is renewed, ms. */
  interval: number
  logger: Logger
  /** The record as it should be now; undefined when there is nothing to advertise. */
  build: () => ServiceRecord | undefined
}

/**
 * A service's entry in the registry, kept true: registered at start, renewed every
 * interval with a TTL, registered again at once when what it advertises changes (an
 * endpoint, a subscription, an HTTP server or node metadata added after start), and
 * removed at stop. Registry calls are made one at a time, in order.
 */
export class Registration {
  readonly #options: RegistrationOptions
  #current: ServiceRecord | undefined
  #currentText = ''
  #active = false
  #renewal: NodeJS.Timeout | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(options: RegistrationOptions) {
    this.#options = options
  }

  /** The record last registered. */
  get record(): ServiceRecord | undefined {
    return this.#current
  }

  /** Register now and keep renewing; rejects when the first registration fails. */
  async start(): Promise<void> {
    this.#active = true
    await this.#enqueue(() => this.#sync(true))
    this.#renewal = setInterval(() => this.#background(true), this.#options.interval)
    this.#renewal.unref()
  }

  /** What the service advertises may have changed: register again now if it did. */
  refresh(): Promise<void> {
    if (!this.#active) return Promise.resolve()
    return this.#enqueue(() => this.#sync(false)).catch((error: unknown) => {
      this.#options.logger.warn('registering the change failed; the next renewal retries', { error })
    })
  }

  /** Stop renewing and deregister (a failure is logged: the TTL ends it anyway). */
  async stop(): Promise<void> {
    this.#active = false
    if (this.#renewal) clearInterval(this.#renewal)
    this.#renewal = undefined
    await this.#enqueue(() => this.#remove()).catch((error: unknown) => {
      this.#options.logger.warn('deregistration failed', { error })
    })
  }

  #background(renew: boolean): void {
    this.#enqueue(() => (this.#active ? this.#sync(renew) : undefined)).catch((error: unknown) => {
      this.#options.logger.warn('registration renewal failed; will retry', { error })
    })
  }

  /** Register the record as built now; `renew` registers even when nothing changed (the TTL). */
  async #sync(renew: boolean): Promise<void> {
    const record = this.#options.build()
    if (record === undefined) return this.#remove()
    const text = JSON.stringify(record)
    if (!renew && text === this.#currentText) return
    const { registry, namespace, ttl } = this.#options
    await registry.register(record, { ttl, namespace })
    this.#current = record
    this.#currentText = text
  }

  async #remove(): Promise<void> {
    const record = this.#current
    this.#current = undefined
    this.#currentText = ''
    if (record) await this.#options.registry.deregister(record, { namespace: this.#options.namespace })
  }

  #enqueue(step: () => unknown): Promise<void> {
    const next = this.#queue.then(step) as Promise<void>
    this.#queue = next.catch(() => undefined)
    return next
  }
}
