import { MicroError } from '../errors/errors.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'

/** Options of {@link NodeHealth}: the back-off a failing node sits out. */
export interface NodeHealthOptions {
  /** First back-off after a failure, ms. Default 1000. */
  baseBackoff?: number
  /** Longest back-off, ms. Default 30 000. */
  maxBackoff?: number
}

interface Failing {
  failures: number
  until: number
}

/**
 * A per-node circuit breaker: a node that fails at the transport level (cannot connect,
 * connection lost, 502/503/504) is set aside for a back-off that doubles with each
 * consecutive failure; one success closes the breaker again. Handler errors (4xx, 500)
 * say nothing about the node's health and are ignored.
 */
export class NodeHealth {
  readonly #failing = new Map<string, Failing>()
  readonly #base: number
  readonly #max: number

  constructor(options: NodeHealthOptions = {}) {
    this.#base = options.baseBackoff ?? 1000
    this.#max = options.maxBackoff ?? 30_000
  }

  /** Whether no node is set aside (or has been and not yet recovered). */
  get allHealthy(): boolean {
    return this.#failing.size === 0
  }

  /** Whether the node may be picked now. */
  available(nodeId: string, now = Date.now()): boolean {
    const failing = this.#failing.get(nodeId)
    return failing === undefined || failing.until <= now
  }

  /** When the node's back-off ends (0 when it is healthy). */
  availableAt(nodeId: string): number {
    return this.#failing.get(nodeId)?.until ?? 0
  }

  /** Record a call's outcome on a node: undefined for a success, else the error (only node failures count). */
  record(nodeId: string, error: unknown): void {
    if (error === undefined) {
      if (this.#failing.size > 0) this.#failing.delete(nodeId)
      return
    }
    if (!isNodeFailure(error)) return
    const previous = this.#failing.get(nodeId)
    const failures = (previous?.failures ?? 0) + 1
    const backoff = Math.min(this.#max, this.#base * 2 ** (failures - 1))
    this.#failing.set(nodeId, { failures, until: Date.now() + backoff })
  }
}

/** Errors that say the node (not the request) is the problem. */
export function isNodeFailure(error: unknown): boolean {
  if (isUnsent(error) || isLost(error)) return true
  return error instanceof MicroError && (error.code === 502 || error.code === 503 || error.code === 504)
}
