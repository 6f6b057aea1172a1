import type { Broker } from '../broker/broker.js'
import type { Events } from '../events/events.js'
import type { Logger } from '../logger/logger.js'
import type { Store } from '../store/store.js'
import type { Blocks } from './blocks.js'
import type { Features, RunDeps, ServiceInfo } from './deps.js'
import type { Table } from './table.js'

/**
 * The deps object factories get. `broker`, `events` and `store` are getters on the
 * prototype, so destructuring them makes them (on first use) but spreading the object
 * does not: a service that never names them opens nothing.
 */
export class DepsObject implements RunDeps {
  readonly #blocks: Blocks

  constructor(
    readonly env: Readonly<Record<string, unknown>>,
    readonly clients: Readonly<Record<string, unknown>>,
    readonly logger: Logger,
    readonly features: Features,
    readonly settings: Readonly<Table>,
    readonly service: ServiceInfo,
    readonly signal: AbortSignal,
    blocks: Blocks,
  ) {
    this.#blocks = blocks
  }

  get broker(): Broker {
    return this.#blocks.broker
  }

  get events(): Events {
    return this.#blocks.events
  }

  get store(): Store {
    return this.#blocks.store
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
      this.#blocks,
    )
  }
}
