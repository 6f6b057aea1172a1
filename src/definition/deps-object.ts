import type { Broker } from '../broker/broker.js'
import type { Client } from '../client/client.js'
import type { Config } from '../config/config.js'
import type { Events } from '../events/events.js'
import type { Logger } from '../logger/logger.js'
import type { Service } from '../service/service.js'
import type { Store } from '../store/store.js'
import type { Sync } from '../sync/sync.js'
import type { Features, RunDeps, ServiceInfo } from './deps.js'
import type { Table } from './table.js'

/**
 * The deps object factories get. The blocks are the process's service stack's (the same
 * ServiceBlocks `createService` uses), as getters on the prototype: destructuring one
 * makes it (on first use) but spreading the object does not, so a service that never
 * names the broker opens none.
 */
export class DepsObject implements RunDeps {
  readonly #stack: () => Service

  constructor(
    readonly env: Readonly<Record<string, unknown>>,
    readonly clients: Readonly<Record<string, unknown>>,
    readonly logger: Logger,
    readonly features: Features,
    readonly settings: Readonly<Table>,
    readonly service: ServiceInfo,
    readonly signal: AbortSignal,
    stack: () => Service,
  ) {
    this.#stack = stack
  }

  get broker(): Broker {
    return this.#stack().broker
  }

  get events(): Events {
    return this.#stack().events
  }

  get store(): Store {
    return this.#stack().store
  }

  get sync(): Sync {
    return this.#stack().sync
  }

  get config(): Config {
    return this.#stack().config
  }

  /** The service's client (the one `clients` are proxies on). */
  get client(): Client {
    return this.#stack().client
  }

  /** The same deps with another signal (a kind's own, joined with the service's). */
  withSignal(signal: AbortSignal): DepsObject {
    return new DepsObject(
      this.env,
      this.clients,
      this.logger,
      this.features,
      this.settings,
      this.service,
      signal,
      this.#stack,
    )
  }
}
