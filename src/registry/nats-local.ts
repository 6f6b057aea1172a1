import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { Announcement } from './mdns-records.js'
import {
  announceSubject,
  encodeAnnouncement,
  encodeAnswers,
  type NatsAnnouncement,
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
    const items: NatsAnnouncement[] = []
    // Our own query gets an empty answer at once: the asker adds our nodes itself.
    if (query.from !== this.#id) {
      const now = Date.now()
      for (const { announcement, expires } of this.matching(query.namespace, query.service)) {
        if (expires <= now) continue
        const ttl = this.remainingTtl(expires, now)
        items.push({ namespace: announcement.namespace, ttl, service: announcement.service })
      }
    }
    const max = (nc.info?.max_payload ?? 1024 * 1024) - 1024
    for (const answer of encodeAnswers(this.#id, items, max)) publish(nc, msg.reply, answer)
  }
}

function publish(nc: NatsConnection, subject: string, payload: Uint8Array): void {
  try {
    nc.publish(subject, payload)
  } catch {
    // A closed connection: peers learn from the TTL instead.
  }
}
