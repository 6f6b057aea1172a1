import { MicroError } from '../errors/errors.js'
import type { NodeRecord } from '../registry/registry.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'

/** Queue-group members that failed lately, tried after the others for a while. */
export class SetAside {
  /** Node id -> epoch ms until which it is tried last. */
  readonly #until = new Map<string, number>()

  mark(id: string, ms: number): void {
    this.#until.set(id, Date.now() + ms)
  }

  /** Members in random order, those set aside last. */
  order(members: readonly NodeRecord[]): NodeRecord[] {
    const now = Date.now()
    for (const [id, until] of this.#until) if (until <= now) this.#until.delete(id)
    return members
      .map((node) => ({ node, key: Math.random() + (this.#until.has(node.id) ? 1 : 0) }))
      .sort((a, b) => a.key - b.key)
      .map((entry) => entry.node)
  }
}

/**
 * Errors after which the message certainly did not reach the member (cannot connect, the
 * subscription is gone, the node is draining), so another member may take it. A connection
 * lost after sending is not one: the message may have arrived.
 */
export function retryable(error: unknown): boolean {
  if (isUnsent(error)) return true
  if (isLost(error) || !(error instanceof MicroError)) return false
  return error.code === 404 || error.code === 503
}
