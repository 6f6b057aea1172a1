import { MicroError } from '../errors/errors.js'
import type { NodeRecord, ServiceRecord } from '../registry/registry.js'
import { isLost, isUnsent } from '../transport/transport-errors.js'
import { BROKER_KEY, BROKER_KIND } from './default-nodes.js'
import type { LocalSubscription } from './subscription.js'

/** Where one message of a topic goes: one subscription node (a batch destination). */
export interface Target {
  readonly node: NodeRecord
  readonly topic: string
  /** The queue group it serves; undefined for a plain subscriber. */
  readonly group: Group | undefined
}

/** The members of one queue group on a topic. */
export interface Group {
  readonly queue: string
  readonly members: readonly Target[]
}

/** Every subscription of a topic: each plain one gets every message, each group one member's worth. */
export interface Route {
  readonly plain: readonly Target[]
  readonly groups: readonly Group[]
}

/**
 * The route of a topic from the registered subscriptions, plus this broker's own, which are
 * known before the registry says (address '', delivered in process).
 */
export function buildRoute(
  topic: string,
  records: readonly ServiceRecord[],
  locals: ReadonlyMap<string, LocalSubscription>,
): Route {
  const found = new Map<string, NodeRecord>()
  for (const record of records) {
    for (const node of record.nodes) {
      if (node.metadata[BROKER_KEY] === BROKER_KIND && node.metadata.topic === topic) found.set(node.id, node)
    }
  }
  for (const [id, sub] of locals) {
    if (sub.topic !== topic || found.has(id)) continue
    const metadata: Record<string, string> = { topic }
    if (sub.queue !== undefined) metadata.queue = sub.queue
    found.set(id, { id, address: '', metadata })
  }
  const plain: Target[] = []
  const groups = new Map<string, { queue: string; members: Target[] }>()
  for (const node of found.values()) {
    const queue = node.metadata.queue
    if (queue === undefined) {
      plain.push({ node, topic, group: undefined })
      continue
    }
    let group = groups.get(queue)
    if (!group) {
      group = { queue, members: [] }
      groups.set(queue, group)
    }
    group.members.push({ node, topic, group })
  }
  return { plain, groups: [...groups.values()] }
}

/** Queue-group members that failed lately, tried after the others for a while. */
export class SetAside {
  /** Node id -> epoch ms until which it is tried last. */
  readonly #until = new Map<string, number>()

  mark(id: string, ms: number): void {
    this.#until.set(id, Date.now() + ms)
  }

  /** One member, at random among those not set aside (all set aside: any). */
  pick(members: readonly Target[]): Target {
    const n = members.length
    const start = n === 1 ? 0 : Math.floor(Math.random() * n)
    if (this.#until.size > 0) {
      this.#expire()
      for (let i = 0; i < n; i++) {
        const member = members[(start + i) % n] as Target
        if (!this.#until.has(member.node.id)) return member
      }
    }
    return members[start] as Target
  }

  /** The next member to try after those in `tried`: one not set aside first; undefined when none is left. */
  next(members: readonly Target[], tried: ReadonlySet<string>): Target | undefined {
    const left = members.filter((m) => !tried.has(m.node.id))
    if (left.length === 0) return undefined
    return this.pick(left)
  }

  #expire(): void {
    const now = Date.now()
    for (const [id, until] of this.#until) if (until <= now) this.#until.delete(id)
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
