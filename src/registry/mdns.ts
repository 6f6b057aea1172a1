import type { Packet } from 'dns-packet'
import { notFound, serviceUnavailable } from '../errors/errors.js'
import { ANY_TYPE_NAME, namespaceTypeName } from './mdns-names.js'
import { groupAnnouncements, PeerCache } from './mdns-peers.js'
import { MdnsQueries } from './mdns-query.js'
import {
  type Announcement,
  announcedNode,
  announcementAnswers,
  announcementKey,
  encodePayload,
  readAnnouncements,
} from './mdns-records.js'
import { MdnsSocket, type MdnsSocketOptions } from './mdns-socket.js'
import { assertValidService, cloneService, sameDescription, sameNode } from './records.js'
import {
  ANY_NAMESPACE,
  DEFAULT_NAMESPACE,
  type NamespaceOption,
  type NodeRecord,
  type RegisterOptions,
  type Registry,
  type ServiceRecord,
  type WatchAction,
  type Watcher,
  type WatchOptions,
} from './registry.js'
import { WatchHub } from './watch-hub.js'

/** Options of {@link MdnsRegistry}. The defaults keep everything on this machine. */
export interface MdnsRegistryOptions extends MdnsSocketOptions {
  /** How long getService and listServices collect answers, in ms. Default 100. */
  queryTimeout?: number
  /** Record TTL announced for registrations that name none, in ms. Default 120 000. */
  defaultTtl?: number
  /** How often expired nodes are dropped (and watchers told), in ms. Default 1000. */
  sweepInterval?: number
}

/** A node this process registered and answers for. */
interface LocalNode {
  key: string
  announcement: Announcement
  payload: Buffer[]
  /** The PTR name of its namespace, precomputed for answering queries. */
  typeName: string
  /** Epoch ms; Infinity when registered without a TTL. */
  expires: number
  /** Record TTL in seconds announced when there is no registration TTL. */
  recordTtl: number
  /** When it was last announced, so TTL-less nodes are re-announced before peers expire them. */
  announced: number
}

/**
 * Registry over multicast DNS: zero set-up discovery between processes. Bound to loopback by
 * default, so it finds every service on this machine and sends nothing off it; give it a LAN
 * interface address to discover across hosts. Each node is one DNS-SD instance whose TXT record
 * carries the whole (compressed) service record; see `mdns-names.ts` and `mdns-records.ts`.
 */
export class MdnsRegistry implements Registry {
  readonly name = 'mdns'
  readonly #hub = new WatchHub()
  readonly #peers = new PeerCache(this.#hub)
  readonly #local = new Map<string, LocalNode>()
  readonly #queries: MdnsQueries
  readonly #socket: MdnsSocket
  readonly #defaultTtl: number
  readonly #sweeper: NodeJS.Timeout
  #closing: Promise<void> | undefined

  constructor(options: MdnsRegistryOptions = {}) {
    this.#defaultTtl = options.defaultTtl ?? 120_000
    this.#socket = new MdnsSocket(options, {
      query: (packet) => this.#onQuery(packet),
      response: (packet) => this.#onResponse(packet),
    })
    this.#queries = new MdnsQueries(async (typeName) => {
      await this.#socket.ready()
      await this.#socket.query(typeName)
    }, options.queryTimeout ?? 100)
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepInterval ?? 1000)
    this.#sweeper.unref()
  }

  /** Resolves once the socket is bound and joined to the group. */
  ready(): Promise<void> {
    return this.#socket.ready()
  }

  async register(service: ServiceRecord, options: RegisterOptions = {}): Promise<void> {
    assertValidService(service)
    this.#assertOpen()
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const ttl = options.ttl !== undefined && options.ttl > 0 ? options.ttl : undefined
    const now = Date.now()
    // Encode every node before changing anything, so an oversized record changes nothing.
    const nodes = service.nodes.map((node): LocalNode => {
      const announcement = { namespace, service: cloneService(service, [node]) }
      return {
        key: announcementKey(announcement),
        announcement,
        payload: encodePayload(announcement),
        typeName: namespaceTypeName(namespace),
        expires: ttl === undefined ? Number.POSITIVE_INFINITY : now + ttl,
        recordTtl: Math.max(1, Math.ceil((ttl ?? this.#defaultTtl) / 1000)),
        announced: now,
      }
    })
    await this.#socket.ready()
    this.#assertOpen()
    const created: NodeRecord[] = []
    const updated: NodeRecord[] = []
    for (const local of nodes) {
      const previous = this.#local.get(local.key)?.announcement ?? this.#peers.take(local.key)
      this.#local.set(local.key, local)
      const node = announcedNode(local.announcement)
      if (!previous) created.push(node)
      else if (
        !sameDescription(previous.service, local.announcement.service) ||
        !sameNode(announcedNode(previous), node)
      ) {
        updated.push(node)
      }
    }
    this.#emit('create', namespace, service, created)
    this.#emit('update', namespace, service, updated)
    await Promise.all(nodes.map((local) => this.#announce(local)))
  }

  async deregister(service: ServiceRecord, options: NamespaceOption = {}): Promise<void> {
    this.#assertOpen()
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const removed: LocalNode[] = []
    for (const node of service.nodes) {
      const key = announcementKey({ namespace, service: { ...service, nodes: [node] } })
      const local = this.#local.get(key)
      if (!local) continue
      this.#local.delete(key)
      removed.push(local)
    }
    const first = removed[0]
    if (!first) return
    const nodes = removed.map((local) => announcedNode(local.announcement))
    this.#emit('delete', namespace, first.announcement.service, nodes)
    // A goodbye (TTL 0) lets peers drop the nodes now rather than when their TTL runs out.
    await Promise.all(removed.map((local) => this.#announce(local, 0)))
  }

  async getService(name: string, options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const records = (await this.#discover(namespace)).filter((record) => record.name === name)
    if (records.length === 0) {
      throw notFound('micro.registry', `service ${name} not found in namespace ${namespace}`)
    }
    return records
  }

  async listServices(options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    return this.#discover(options.namespace ?? DEFAULT_NAMESPACE)
  }

  watch(options?: WatchOptions): Watcher {
    const watcher = this.#hub.watch(options)
    if (this.#closing) watcher.stop()
    return watcher
  }

  /** Withdraws this process's nodes, closes the socket and ends every watcher. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#hub.close()
    const goodbyes = [...this.#local.values()].map((local) => this.#announce(local, 0).catch(() => {}))
    this.#local.clear()
    await Promise.all(goodbyes)
    await this.#socket.close()
    this.#peers.clear()
  }

  #assertOpen(): void {
    if (this.#closing) throw serviceUnavailable('micro.registry', 'the mdns registry is closed')
  }

  /** Live records of the namespace: fresh answers from the network plus this process's own. */
  async #discover(namespace: string): Promise<ServiceRecord[]> {
    this.#assertOpen()
    const found = await this.#queries.ask(
      namespace === ANY_NAMESPACE ? ANY_TYPE_NAME : namespaceTypeName(namespace),
    )
    const now = Date.now()
    const announcements: Announcement[] = []
    for (const local of this.#local.values()) {
      if (local.expires <= now) continue
      if (namespace === ANY_NAMESPACE || local.announcement.namespace === namespace) {
        announcements.push(local.announcement)
      }
    }
    for (const [key, announcement] of found) {
      if (this.#local.has(key)) continue
      if (namespace === ANY_NAMESPACE || announcement.namespace === namespace)
        announcements.push(announcement)
    }
    return groupAnnouncements(announcements)
  }

  #onQuery(packet: Packet): void {
    const now = Date.now()
    const answer = new Set<LocalNode>()
    for (const question of packet.questions ?? []) {
      // dns-packet's types leave out ANY (type 255), which queriers may still send.
      const type: string = question.type
      if (type !== 'PTR' && type !== 'ANY') continue
      const name = String(question.name).toLowerCase()
      for (const local of this.#local.values()) {
        if (local.expires > now && (name === ANY_TYPE_NAME || name === local.typeName)) answer.add(local)
      }
    }
    // One packet per node keeps every datagram small, however many nodes there are.
    for (const local of answer) this.#announce(local).catch(() => {})
  }

  #onResponse(packet: Packet): void {
    try {
      const now = Date.now()
      for (const { announcement, ttl } of readAnnouncements(packet)) {
        const key = announcementKey(announcement)
        // Our own announcements come back through multicast loopback; we know them already.
        if (this.#local.has(key)) continue
        this.#queries.offer(announcement, ttl)
        this.#peers.apply(announcement, ttl, now)
      }
    } catch {
      // A packet we cannot make sense of is someone else's problem, never a crash of ours.
    }
  }

  /** Multicast a node's records; the TTL is what is left of its registration. */
  #announce(local: LocalNode, ttl = this.#remainingTtl(local)): Promise<void> {
    local.announced = Date.now()
    return this.#socket.respond(announcementAnswers(local.announcement, local.payload, ttl))
  }

  #remainingTtl(local: LocalNode): number {
    if (local.expires === Number.POSITIVE_INFINITY) return local.recordTtl
    return Math.max(1, Math.ceil((local.expires - Date.now()) / 1000))
  }

  #sweep(): void {
    const now = Date.now()
    for (const [key, local] of this.#local) {
      if (local.expires <= now) {
        this.#local.delete(key)
        const { namespace, service } = local.announcement
        this.#emit('delete', namespace, service, service.nodes)
      } else if (
        local.expires === Number.POSITIVE_INFINITY &&
        now - local.announced >= local.recordTtl * 500
      ) {
        // Registered without a TTL: re-announce at half-life so peers' watch caches keep it.
        this.#announce(local).catch(() => {})
      }
    }
    this.#peers.sweep(now)
  }

  #emit(action: WatchAction, namespace: string, service: ServiceRecord, nodes: NodeRecord[]): void {
    if (nodes.length > 0) this.#hub.emit({ action, namespace, service: cloneService(service, nodes) })
  }
}
