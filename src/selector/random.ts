import type { NodeRecord } from '../registry/registry.js'
import { BaseSelector, randomIndex } from './base.js'

/** Uniformly random among healthy nodes (Go Micro's default strategy). */
export class RandomSelector extends BaseSelector {
  readonly name = 'random'

  protected pick(nodes: readonly NodeRecord[]): NodeRecord {
    return nodes[randomIndex(nodes.length)] as NodeRecord
  }
}
