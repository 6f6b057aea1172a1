import type { NodeRecord } from '../registry/registry.js'
import { BaseSelector, randomIndex } from './base.js'

/** Each service's healthy nodes in turn, starting at a random one so clients do not align. */
export class RoundRobinSelector extends BaseSelector {
  readonly name = 'round-robin'
  readonly #counters = new Map<string, number>()

  protected pick(nodes: readonly NodeRecord[], service: string): NodeRecord {
    const next = this.#counters.get(service) ?? randomIndex(nodes.length)
    this.#counters.set(service, (next + 1) % 0x7fffffff)
    return nodes[next % nodes.length] as NodeRecord
  }
}
