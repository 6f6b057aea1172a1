import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { Announcement } from './mdns-records.js'
import {
  announceSubject,
  answerItemJson,
  encodeAnnouncement,
  encodeAnswers,
  querySubject,
  readQuery,
} from './nats-protocol.js'
import { ANY_NAMESPACE, type ServiceRecord } from './registry.js'

/** A node this instance registered and answers for. */
export interface LocalNode {
  key: string
  /** The service version with exactly this node. */
  announcement: Announcement
  /** Epoch ms; Infinity when registered without a TTL. */
  expires: number
  /** When it was last announced, so TTL-less nodes are re-announced before peers expire them. */
  announced: number
  /** JSON of the service without its nodes and of the node, made by the first query needing them. */
  json?: { description: string; node: string }
}

/**
 * The nodes this NATS registry instance owns. While it holds a node in a namespace it
 * answers that namespace's queries (and the any-namespace ones), so a lookup of an empty
 * namespace reaches nobody and ends at once.
 */
export class LocalNodes {
  readonly #id: string
  readonly #prefix: string
  readonly #defaultTtl: number
  readonly #nodes = new Map<string, LocalNode>()
  /** The same nodes by namespace, then service name: a query costs the nodes it asks about. */
  readonly #index = new Map<string, Map<string, Map<string, LocalNode>>>()
  /** Query subjects answered, with how many of our nodes need each. */
  readonly #responders = new Map<string, { subscription: Subscription; nodes: number }>()

  constructor(id: string, prefix: string, defaultTtl: number) {
    this.#id = id
    this.#prefix = prefix
    this.#defaultTtl = defaultTtl
  }

  get(key: string): LocalNode | undefined {
    return this.#nodes.get(key)
  }

  has(key: string): boolean {
    return this.#nodes.has(key)
  }

  values(): LocalNode[] {
    return [...this.#nodes.values()]
  }

  /** Our nodes in `namespace` (every namespace for `*`), of `service` when given. */
  *matching(namespace: string, service: string | undefined): Iterable<LocalNode> {
    const namespaces = namespace === ANY_NAMESPACE ? [...this.#index.values()] : [this.#index.get(namespace)]
    for (const services of namespaces) {
      if (!services) continue
      if (service !== undefined) yield* services.get(service)?.values() ?? []
      else for (const nodes of services.values()) yield* nodes.values()
    }
  }

  /** Add or replace a node; a new one makes us answer its namespace's queries. */
  set(nc: NatsConnection, local: LocalNode): void {
    if (!this.#nodes.has(local.key)) {
      for (const subject of this.#querySubjects(local.announcement.namespace)) {
        const responder = this.#responders.get(subject)
        if (responder) responder.nodes++
        else {
          const subscription = nc.subscribe(subject, {
            callback: (error, msg) => {
              if (!error) this.#answer(nc, msg)
            },
          })
          this.#responders.set(subject, { subscription, nodes: 1 })
        }
      }
    }
    this.#nodes.set(local.key, local)
    const { namespace, service } = local.announcement
    let services = this.#index.get(namespace)
    if (!services) {
      services = new Map()
      this.#index.set(namespace, services)
    }
    let nodes = services.get(service.name)
    if (!nodes) {
      nodes = new Map()
      services.set(service.name, nodes)
    }
    nodes.set(local.key, local)
  }

  /** Forget a node, and stop answering where no node of ours is left. */
  drop(local: LocalNode): void {
    if (!this.#nodes.delete(local.key)) return
    const { namespace, service } = local.announcement
    const services = this.#index.get(namespace)
    const nodes = services?.get(service.name)
    nodes?.delete(local.key)
    if (nodes?.size === 0) services?.delete(service.name)
    if (services?.size === 0) this.#index.delete(namespace)
    for (const subject of this.#querySubjects(local.announcement.namespace)) {
      const responder = this.#responders.get(subject)
      if (!responder || --responder.nodes > 0) continue
      this.#responders.delete(subject)
      responder.subscription.unsubscribe()
    }
  }

  /** Publish a node's announcement with what is left of its TTL. */
  announce(nc: NatsConnection, local: LocalNode): void {
    const now = Date.now()
    local.announced = now
    const { namespace, service } = local.announcement
    const ttl = this.remainingTtl(local.expires, now)
    publish(
      nc,
      announceSubject(this.#prefix, namespace),
      encodeAnnouncement(this.#id, { namespace, ttl, service }),
    )
  }

  /** Publish the withdrawal (TTL 0) of the nodes of `service`. */
  withdraw(nc: NatsConnection, namespace: string, service: ServiceRecord): void {
    const message = encodeAnnouncement(this.#id, { namespace, ttl: 0, service })
    publish(nc, announceSubject(this.#prefix, namespace), message)
  }

  /** The TTL peers are told: what is left, or the default for nodes registered without one. */
  remainingTtl(expires: number, now: number): number {
    return expires === Infinity ? this.#defaultTtl : Math.max(1, expires - now)
  }

  /** Stop answering and forget every node. */
  clear(): void {
    for (const { subscription } of this.#responders.values()) subscription.unsubscribe()
    this.#responders.clear()
    this.#nodes.clear()
    this.#index.clear()
  }

  #querySubjects(namespace: string): string[] {
    return [querySubject(this.#prefix, namespace), querySubject(this.#prefix, ANY_NAMESPACE)]
  }

  #answer(nc: NatsConnection, msg: Msg): void {
    const query = readQuery(msg.data)
    if (!query || !msg.reply || msg.subject !== querySubject(this.#prefix, query.namespace)) return
    // Our own query gets an empty answer at once: the asker adds our nodes itself.
    const items =
      query.from === this.#id
        ? []
        : answerItems(this.matching(query.namespace, query.service), Date.now(), (expires, now) =>
            this.remainingTtl(expires, now),
          )
    const max = (nc.info?.max_payload ?? 1024 * 1024) - 1024
    for (const answer of encodeAnswers(this.#id, items, max)) publish(nc, msg.reply, answer)
  }
}

/**
 * The answer items (JSON) for some of our nodes. Nodes of one service version registered
 * together share one item (fewer bytes to send and parse); the JSON of each part is made once
 * per node and reused by every later query.
 */
function answerItems(
  nodes: Iterable<LocalNode>,
  now: number,
  remainingTtl: (expires: number, now: number) => number,
): string[] {
  const groups = new Map<string, { namespace: string; ttl: number; description: string; nodes: string[] }>()
  for (const local of nodes) {
    if (local.expires <= now) continue
    const { namespace, service } = local.announcement
    local.json ??= {
      description: JSON.stringify({ ...service, nodes: undefined }),
      node: JSON.stringify(service.nodes[0]),
    }
    const key = `${namespace}\0${local.expires}\0${local.json.description}`
    const group = groups.get(key)
    if (group) group.nodes.push(local.json.node)
    else {
      const ttl = remainingTtl(local.expires, now)
      groups.set(key, { namespace, ttl, description: local.json.description, nodes: [local.json.node] })
    }
  }
  return [...groups.values()].map(({ namespace, ttl, description, nodes }) => {
    // The description is an object's JSON: the nodes go in before its last `}`.
    const comma = description === '{}' ? '' : ','
    return answerItemJson(namespace, ttl, `${description.slice(0, -1)}${comma}"nodes":[${nodes.join(',')}]}`)
  })
}

function publish(nc: NatsConnection, subject: string, payload: Uint8Array): void {
  try {
    nc.publish(subject, payload)
  } catch {
    // A closed connection: peers learn from the TTL instead.
  }
}
