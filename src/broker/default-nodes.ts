import type { Logger } from '../logger/logger.js'
import type { NodeRecord, Registry, ServiceRecord } from '../registry/registry.js'

/** Node metadata key naming the broker kind, so other node kinds in the service are ignored. */
export const BROKER_KEY = 'broker'
export const BROKER_KIND = 'default'

export interface BrokerNodesOptions {
  registry: Registry
  namespace: string
  /** Registry service the subscriptions are nodes of. */
  service: string
  ttl: number
  interval: number
  logger: Logger
}

/**
 * The subscriptions of one default broker as nodes of a registry service (`micro.broker`):
 * node id = subscription id, address = the broker's listener, metadata `{broker, topic,
 * queue?}`. Registered with a TTL and renewed on an interval, so the nodes of a process
 * that died expire.
 */
export class BrokerNodes {
  readonly #options: BrokerNodesOptions
  readonly #nodes = new Map<string, NodeRecord>()
  #renewal: NodeJS.Timeout | undefined

  constructor(options: BrokerNodesOptions) {
    this.#options = options
  }

  /** Register one subscription. */
  async add(id: string, address: string, topic: string, queue: string | undefined): Promise<void> {
    const metadata: Record<string, string> = { [BROKER_KEY]: BROKER_KIND, topic }
    if (queue !== undefined) metadata.queue = queue
    const node: NodeRecord = { id, address, metadata }
    this.#nodes.set(id, node)
    await this.#register([node])
    if (!this.#renewal) {
      this.#renewal = setInterval(() => void this.#renew(), this.#options.interval)
      this.#renewal.unref()
    }
  }

  /** Deregister one subscription. */
  async remove(id: string): Promise<void> {
    const node = this.#nodes.get(id)
    if (!node) return
    this.#nodes.delete(id)
    if (this.#nodes.size === 0) this.#stopRenewal()
    await this.#options.registry.deregister(this.#record([node]), { namespace: this.#options.namespace })
  }

  /** Stop renewing; the nodes are deregistered by `remove`. */
  close(): void {
    this.#stopRenewal()
  }

  #stopRenewal(): void {
    if (this.#renewal) clearInterval(this.#renewal)
    this.#renewal = undefined
  }

  async #renew(): Promise<void> {
    if (this.#nodes.size === 0) return
    try {
      await this.#register([...this.#nodes.values()])
    } catch (error) {
      this.#options.logger.warn('could not renew the broker subscriptions in the registry', { error })
    }
  }

  #register(nodes: NodeRecord[]): Promise<void> {
    const { registry, namespace, ttl } = this.#options
    return registry.register(this.#record(nodes), { namespace, ttl })
  }

  #record(nodes: NodeRecord[]): ServiceRecord {
    return { name: this.#options.service, version: 'latest', metadata: {}, endpoints: [], nodes }
  }
}
