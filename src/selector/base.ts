import type { NodeRecord, ServiceRecord } from '../registry/registry.js'
import { NodeHealth, type NodeHealthOptions } from './node-health.js'
import type { SelectOptions, Selector } from './selector.js'

/**
 * What every strategy shares: gather candidate nodes, leave out excluded, set-aside and
 * HTTP-only (protocol `http`) ones, and fail open (try the node whose back-off ends first) rather than pick nothing.
 */
export abstract class BaseSelector implements Selector {
  abstract readonly name: string
  protected readonly health: NodeHealth

  constructor(options: NodeHealthOptions = {}) {
    this.health = new NodeHealth(options)
  }

  select(services: readonly ServiceRecord[], options?: SelectOptions): NodeRecord | undefined {
    // The common case (one version, no filter, every node healthy) needs no candidate list.
    if (services.length === 1 && options === undefined && this.health.allHealthy) {
      const nodes = (services[0] as ServiceRecord).nodes
      if (nodes.length === 0) return undefined
      const node =
        nodes.length === 1 ? (nodes[0] as NodeRecord) : this.pick(nodes, (services[0] as ServiceRecord).name)
      // An HTTP-only node in the list: take the slow path, which leaves it out.
      if (node.metadata.protocol !== 'http') {
        this.started(node)
        return node
      }
    }
    const healthy: NodeRecord[] = []
    let fallback: NodeRecord | undefined
    let fallbackAt = Number.POSITIVE_INFINITY
    const now = Date.now()
    for (const service of services) {
      if (options?.version !== undefined && service.version !== options.version) continue
      for (const node of service.nodes) {
        // A node serving only HTTP (the http kind) takes no RPC calls.
        if (node.metadata.protocol === 'http' || options?.exclude?.has(node.id)) continue
        if (this.health.available(node.id, now)) {
          healthy.push(node)
        } else {
          const at = this.health.availableAt(node.id)
          if (at < fallbackAt) {
            fallback = node
            fallbackAt = at
          }
        }
      }
    }
    const key = services[0]?.name ?? ''
    const node = healthy.length > 0 ? this.pick(healthy, key) : fallback
    if (node) this.started(node)
    return node
  }

  mark(node: NodeRecord, error?: unknown): void {
    this.finished(node)
    this.health.record(node.id, error)
  }

  /** Choose among healthy candidates (never empty). */
  protected abstract pick(nodes: readonly NodeRecord[], service: string): NodeRecord
  /** A call to the node started. */
  protected started(_node: NodeRecord): void {}
  /** A call to the node ended. */
  protected finished(_node: NodeRecord): void {}
}

/** A random index below `n`. */
export function randomIndex(n: number): number {
  return Math.floor(Math.random() * n)
}
