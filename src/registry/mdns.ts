import type { Packet } from 'dns-packet'
import { notFound, serviceUnavailable } from '../errors/errors.js'
import { createLogger, type Logger } from '../logger/logger.js'
import { type DropReason, InboundGuard, type MdnsLimits } from './mdns-guard.js'
import { ANY_TYPE_NAME, namespaceTypeName, serviceTypeName } from './mdns-names.js'
import { encodePayload } from './mdns-payload.js'
import { groupAnnouncements, PeerCache } from './mdns-peers.js'
import { MdnsQueries } from './mdns-query.js'
import { AnnouncementReader } from './mdns-reader.js'
import { type Announcement, announcedNode, announcementAnswers, announcementKey } from './mdns-records.js'
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
  /**
   * When nothing has answered within `queryTimeout`: how long, in all, a lookup keeps
   * asking before it says "not found", in ms, since a loaded peer answers late. Default:
   * `queryTimeout` (services look up often and cache); the CLI, which looks up once, waits
   * a second.
   */
  notFoundTimeout?: number
  /** Record TTL announced for registrations that name none, in ms. Default 120 000. */
  defaultTtl?: number
  /** How often expired nodes are dropped (and watchers told), in ms. Default 1000. */
  sweepInterval?: number
  /** Work budgets for what arrives on the group (see `mdns-guard.ts`). */
  limits?: MdnsLimits
  /** Where dropped traffic is reported (one line per sender per interval). Default: stderr. */
  logger?: Logger
}

/** Queries arriving within this many ms of our last answers are answered together, once. */
const ANSWER_INTERVAL_MS = 20

/** A node this process registered and answers for. */
interface LocalNode {
  key: string
  announcement: Announcement
  payload: Buffer[]
  /** The PTR names of its namespace and of its service, precomputed for answering queries. */
  typeName: string
  serviceTypeName: string
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
  readonly #peers: PeerCache
  readonly #local = new Map<string, LocalNode>()
  readonly #queries: MdnsQueries
  readonly #guard: InboundGuard
  readonly #reader: AnnouncementReader
  readonly #socket: MdnsSocket
  readonly #defaultTtl: number
  readonly #sweeper: NodeJS.Timeout
  /** Nodes asked for since the last answers, sent together once the answer interval passes. */
  readonly #unanswered = new Set<string>()
  #answerTimer: NodeJS.Timeout | undefined
  #answeredAt = 0
  #closing: Promise<void> | undefined

  constructor(options: MdnsRegistryOptions = {}) {
    this.#defaultTtl = options.defaultTtl ?? 120_000
    const logger = options.logger ?? createLogger({ fields: { component: 'registry.mdns' } })
    this.#guard = new InboundGuard(options.limits ?? {}, logger)
    this.#peers = new PeerCache(this.#hub, options.limits?.maxPeerNodes ?? 10_000)
    this.#reader = new AnnouncementReader(this.#guard)
    this.#socket = new MdnsSocket(options, this.#guard, {
      query: (packet) => this.#onQuery(packet),
      response: (packet, source) => this.#onResponse(packet, source),
    })
    this.#queries = new MdnsQueries(
      async (typeName) => {
        await this.#socket.ready()
        await this.#socket.query(typeName)
      },
      options.queryTimeout ?? 100,
      options.notFoundTimeout,
    )
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepInterval ?? 1000)
    this.#sweeper.unref()
  }

  /** Resolves once the socket is bound and joined to the group. */
  ready(): Promise<void> {
    return this.#socket.ready()
  }

  /** Inbound traffic dropped so far, by reason: over budget, malformed, oversized records... */
  dropped(): Readonly<Record<DropReason, number>> {
    return this.#guard.dropped()
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
        serviceTypeName: serviceTypeName(namespace, service.name),
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
    const records = await this.#discover(namespace, name)
    if (records.length === 0) {
      throw notFound('micro.registry', `service ${name} not found in namespace ${namespace}`)
    }
    return records
  }

  async listServices(options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    return this.#discover(options.namespace ?? DEFAULT_NAMESPACE, undefined)
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
    clearTimeout(this.#answerTimer)
    this.#unanswered.clear()
    this.#hub.close()
    const goodbyes = [...this.#local.values()].map((local) => this.#announce(local, 0).catch(() => {}))
    this.#local.clear()
    await Promise.all(goodbyes)
    await this.#socket.close()
    this.#peers.clear()
    this.#reader.clear()
  }

  #assertOpen(): void {
    if (this.#closing) throw serviceUnavailable('micro.registry', 'the mdns registry is closed')
  }

  /**
   * Live records of the namespace (of one service when `service` is given): fresh answers from
   * the network plus this process's own. A service is asked for by its own PTR name, so only
   * its nodes answer.
   */
  async #discover(namespace: string, service: string | undefined): Promise<ServiceRecord[]> {
    this.#assertOpen()
    const wanted = (announcement: Announcement) =>
      (namespace === ANY_NAMESPACE || announcement.namespace === namespace) &&
      (service === undefined || announcement.service.name === service)
    const typeName =
      service !== undefined && namespace !== ANY_NAMESPACE
        ? serviceTypeName(namespace, service)
        : namespace === ANY_NAMESPACE
          ? ANY_TYPE_NAME
          : namespaceTypeName(namespace)
    const found = await this.#queries.ask(typeName)
    const now = Date.now()
    const announcements: Announcement[] = []
    for (const local of this.#local.values()) {
      if (local.expires > now && wanted(local.announcement)) announcements.push(local.announcement)
    }
    for (const [key, announcement] of found) {
      if (!this.#local.has(key) && wanted(announcement)) announcements.push(announcement)
    }
    return groupAnnouncements(announcements)
  }

  #onQuery(packet: Packet): void {
    const now = Date.now()
    for (const question of packet.questions ?? []) {
      // dns-packet's types leave out ANY (type 255), which queriers may still send.
      const type: string = question.type
      if (type !== 'PTR' && type !== 'ANY') continue
      const name = String(question.name).toLowerCase()
      for (const local of this.#local.values()) {
        if (local.expires <= now) continue
        if (name === ANY_TYPE_NAME || name === local.typeName || name === local.serviceTypeName) {
          this.#unanswered.add(local.key)
        }
      }
    }
    if (this.#unanswered.size === 0 || this.#answerTimer) return
    // However many queries arrive, each node is multicast at most once per interval.
    const wait = this.#answeredAt + ANSWER_INTERVAL_MS - now
    if (wait <= 0) this.#answer()
    else this.#answerTimer = setTimeout(() => this.#answer(), wait)
  }

  /** Multicast every node asked for since the last answers (one packet per node). */
  #answer(): void {
    this.#answerTimer = undefined
    this.#answeredAt = Date.now()
    const keys = [...this.#unanswered]
    this.#unanswered.clear()
    for (const key of keys) {
      // A node deregistered or renewed meanwhile is answered as it is now, or not at all.
      const local = this.#local.get(key)
      if (local && local.expires > this.#answeredAt) this.#announce(local).catch(() => {})
    }
  }

  #onResponse(packet: Packet, source: string): void {
    try {
      const now = Date.now()
      for (const { announcement, ttl } of this.#reader.read(packet, source)) {
        const key = announcementKey(announcement)
        // Our own announcements come back through multicast loopback; we know them already.
        if (this.#local.has(key)) continue
        this.#queries.offer(announcement, ttl)
        if (!this.#peers.apply(announcement, ttl, now)) this.#guard.drop(source, 'too-many-nodes')
      }
    } catch {
      // A packet we cannot make sense of is someone else's problem, never a crash of ours.
      this.#guard.drop(source, 'malformed')
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
