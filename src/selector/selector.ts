import type { NodeRecord, ServiceRecord } from '../registry/registry.js'

/** Options of `selector.select(services, options)`: which nodes may be picked. */
export interface SelectOptions {
  /** Only nodes of this service version. */
  version?: string
  /** Node ids to skip (already tried in this call). */
  exclude?: ReadonlySet<string>
}

/**
 * Picks the node for each call attempt. Every node `select` returns must be reported back
 * with exactly one `mark` once the attempt ends, so strategies can count calls in flight
 * and set failing nodes aside.
 */
export interface Selector {
  readonly name: string
  /** A node of the given service versions, or undefined when there is none to pick. */
  select(services: readonly ServiceRecord[], options?: SelectOptions): NodeRecord | undefined
  /** The attempt on `node` ended; `error` is what it failed with, if it did. */
  mark(node: NodeRecord, error?: unknown): void
}
