import type { NodeRecord } from '../registry/registry.js'
import { BaseSelector, randomIndex } from './base.js'

/**
 * Power of two choices: take two random healthy nodes and use the one with fewer calls in
 * flight from this client. Nearly as good as a global least-loaded pick, without scanning
 * every node or sharing state between clients. The default.
 */
export class LeastInFlightSelector extends BaseSelector {
  readonly name = 'least-in-flight'
  readonly #inFlight = new Map<string, number>()

  protected pick(nodes: readonly NodeRecord[]): NodeRecord {
    if (nodes.length === 1) return nodes[0] as NodeRecord
    const i = randomIndex(nodes.length)
    let j = randomIndex(nodes.length - 1)
    if (j >= i) j++
    const a = nodes[i] as NodeRecord
    const b = nodes[j] as NodeRecord
    return this.#load(b) < this.#load(a) ? b : a
  }

  /** Calls this selector has in flight to the node. */
  inFlight(nodeId: string): number {
    return this.#inFlight.get(nodeId) ?? 0
  }

  protected override started(node: NodeRecord): void {
    this.#inFlight.set(node.id, (this.#inFlight.get(node.id) ?? 0) + 1)
  }

  protected override finished(node: NodeRecord): void {
    const n = (this.#inFlight.get(node.id) ?? 1) - 1
    if (n <= 0) this.#inFlight.delete(node.id)
    else this.#inFlight.set(node.id, n)
  }

  #load(node: NodeRecord): number {
    return this.#inFlight.get(node.id) ?? 0
  }
}
