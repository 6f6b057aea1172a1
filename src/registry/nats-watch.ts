import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { PeerCache } from './mdns-peers.js'
import { announcementKey } from './mdns-records.js'
import {
  announceSubject,
  announceWildcard,
  encodeQuery,
  perNode,
  querySubject,
  readAnnouncement,
  readAnswer,
} from './nats-protocol.js'
import type { NatsQueries } from './nats-query.js'
import { ANY_NAMESPACE } from './registry.js'

/**
 * What watchers of a NATS registry hear from other instances: every announcement under the
 * prefix, fed into the peer cache (which turns them into create, update and delete events,
 * and deletes nodes whose TTL passes without renewal).
 */
export class AnnouncementWatch {
  readonly #id: string
  readonly #prefix: string
  readonly #peers: PeerCache
  readonly #isLocal: (key: string) => boolean
  readonly #seeded = new Set<string>()
  #subscription: Subscription | undefined

  /** `isLocal` says whether a node is this instance's own (its events are emitted locally). */
  constructor(id: string, prefix: string, peers: PeerCache, isLocal: (key: string) => boolean) {
    this.#id = id
    this.#prefix = prefix
    this.#peers = peers
    this.#isLocal = isLocal
  }

  /** Listen to announcements (once), then learn the namespace's current nodes (once per namespace). */
  async start(nc: NatsConnection, queries: NatsQueries, namespace: string): Promise<void> {
    if (!this.#subscription) {
      this.#subscription = nc.subscribe(announceWildcard(this.#prefix), {
        callback: (error, msg) => {
          if (!error) this.#onAnnouncement(msg)
        },
      })
      await nc.flush()
    }
    if (this.#seeded.has(namespace) || this.#seeded.has(ANY_NAMESPACE)) return
    this.#seeded.add(namespace)
    // Nodes registered before the watch started: their later expiry or withdrawal is news.
    const answers = await queries.ask(
      querySubject(this.#prefix, namespace),
      encodeQuery({ from: this.#id, namespace, service: undefined }),
    )
    const now = Date.now()
    for (const bytes of answers) {
      const answer = readAnswer(bytes)
      if (!answer || answer.from === this.#id) continue
      for (const item of answer.items) {
        for (const node of perNode(item)) {
          if (!this.#isLocal(announcementKey(node))) this.#peers.prime(node, item.ttl / 1000, now)
        }
      }
    }
  }

  stop(): void {
    this.#subscription?.unsubscribe()
    this.#subscription = undefined
  }

  #onAnnouncement(msg: Msg): void {
    const read = readAnnouncement(msg.data)
    if (!read || read.from === this.#id) return
    const { announcement } = read
    // The subject must agree with the payload, or one namespace could be fed another's nodes.
    if (msg.subject !== announceSubject(this.#prefix, announcement.namespace)) return
    const now = Date.now()
    for (const node of perNode(announcement)) {
      if (!this.#isLocal(announcementKey(node))) this.#peers.apply(node, announcement.ttl / 1000, now)
    }
  }
}
