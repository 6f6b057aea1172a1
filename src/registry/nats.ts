import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { acquireNats, loadNats, type NatsLink } from '../engines/nats.js'
import { badRequest, notFound, payloadTooLarge, serviceUnavailable } from '../errors/errors.js'
import { uuid } from '../util/ids.js'
import { groupAnnouncements, PeerCache } from './mdns-peers.js'
import { type Announcement, announcedNode, announcementKey } from './mdns-records.js'
import { LocalNodes } from './nats-local.js'
import {
  announceSubject,
  encodeAnnouncement,
  encodeQuery,
  querySubject,
  readAnswer,
} from './nats-protocol.js'
import { NatsQueries } from './nats-query.js'
import { AnnouncementWatch } from './nats-watch.js'
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

const USED_BY = 'the nats registry'

/** Options of {@link NatsRegistry}. */
export interface NatsRegistryOptions {
  /** NATS servers, comma-separated URLs (MICRO_REGISTRY_ADDRESS). Default `nats://127.0.0.1:4222`. */
  address?: string
  /** Use this connection instead of the process's shared one; close() leaves it open. */
  connection?: NatsConnection
  /** Subject prefix; registries see each other only under the same one. Default `micro.registry`. */
  prefix?: string
  /** Longest a lookup waits for answers, ms. Default 1000. */
  queryTimeout?: number
  /** A lookup ends once no answer has come for this long after the last one, ms. Default 50. */
  queryStall?: number
  /** TTL announced for nodes registered without one (re-announced at half-life), ms. Default 120 000. */
  defaultTtl?: number
  /** How often expired nodes are dropped (and watchers told), ms. Default 1000. */
  sweepInterval?: number
}

interface Connected {
  nc: NatsConnection
  link: NatsLink
  queries: NatsQueries
  inbox: Subscription
}

/**
 * Registry over core NATS, visible to every process on the same NATS servers: the instance
 * that registers a node owns it, announces it (on register, renewal and withdrawal) and
 * answers lookups for it; a lookup asks every instance holding nodes of the namespace and
 * gathers the answers. A node whose TTL runs out is dropped by its owner (which stops
 * answering for it and sends a withdrawal) and by every watcher (receipt + TTL); a crashed
 * owner stops answering at once. No JetStream needed. See `src/registry/README.md`.
 */
export class NatsRegistry implements Registry {
  readonly name = 'nats'
  readonly #id = uuid()
  readonly #options: NatsRegistryOptions
  readonly #prefix: string
  readonly #defaultTtl: number
  readonly #hub = new WatchHub()
  readonly #peers = new PeerCache(this.#hub)
  readonly #local: LocalNodes
  readonly #watch: AnnouncementWatch
  readonly #sweeper: NodeJS.Timeout
  #connected: Promise<Connected> | undefined
  #watchSetup: Promise<void> = Promise.resolve()
  #closing: Promise<void> | undefined

  constructor(options: NatsRegistryOptions = {}) {
    this.#options = options
    this.#prefix = options.prefix ?? 'micro.registry'
    this.#defaultTtl = options.defaultTtl ?? 120_000
    this.#local = new LocalNodes(this.#id, this.#prefix, this.#defaultTtl)
    this.#watch = new AnnouncementWatch(this.#id, this.#prefix, this.#peers, (key) => this.#local.has(key))
    this.#sweeper = setInterval(() => this.#sweep(), options.sweepInterval ?? 1000)
    this.#sweeper.unref()
  }

  /** Resolves once connected and every watch started so far hears announcements. */
  async ready(): Promise<void> {
    const { nc } = await this.#connect()
    await this.#watchSetup
    await nc.flush()
  }

  async register(service: ServiceRecord, options: RegisterOptions = {}): Promise<void> {
    assertValidService(service)
    this.#assertOpen()
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    if (namespace === ANY_NAMESPACE) throw badRequest('micro.registry', 'cannot register in the * namespace')
    const ttl = options.ttl !== undefined && options.ttl > 0 ? options.ttl : undefined
    const record = cloneService(service)
    const { nc, link } = await this.#connect()
    this.#assertOpen()
    const message = encodeAnnouncement(this.#id, { namespace, ttl: ttl ?? this.#defaultTtl, service: record })
    const max = nc.info?.max_payload ?? 1024 * 1024
    if (message.length > max) {
      const detail = `service ${record.name}: its announcement is ${message.length} bytes, over the NATS max_payload of ${max}`
      throw payloadTooLarge('micro.registry', detail)
    }
    const now = Date.now()
    const expires = ttl === undefined ? Infinity : now + ttl
    const created: NodeRecord[] = []
    const updated: NodeRecord[] = []
    for (const node of record.nodes) {
      const announcement = { namespace, service: cloneService(record, [node]) }
      const key = announcementKey(announcement)
      const previous = this.#local.get(key)?.announcement ?? this.#peers.take(key)
      this.#local.set(nc, { key, announcement, expires, announced: now })
      if (!previous) created.push(node)
      else if (!sameDescription(previous.service, record) || !sameNode(announcedNode(previous), node)) {
        updated.push(node)
      }
    }
    this.#emit('create', namespace, record, created)
    this.#emit('update', namespace, record, updated)
    try {
      nc.publish(announceSubject(this.#prefix, namespace), message)
    } catch (error) {
      throw serviceUnavailable(
        'micro.registry',
        `cannot announce ${record.name}: ${(error as Error).message}`,
      )
    }
    // Peers may look the node up as soon as this resolves: the server must have our subscriptions.
    if (link.connected) await nc.flush()
  }

  async deregister(service: ServiceRecord, options: NamespaceOption = {}): Promise<void> {
    this.#assertOpen()
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const removed = (service.nodes ?? []).flatMap((node) => {
      const local = this.#local.get(announcementKey({ namespace, service: { ...service, nodes: [node] } }))
      return local ? [local] : []
    })
    const first = removed[0]
    if (!first) return
    const { nc, link } = await this.#connect()
    for (const local of removed) this.#local.drop(local)
    const nodes = removed.map((local) => announcedNode(local.announcement))
    this.#emit('delete', namespace, first.announcement.service, nodes)
    this.#local.withdraw(nc, namespace, cloneService(first.announcement.service, nodes))
    if (link.connected) await nc.flush()
  }

  async getService(name: string, options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    const records = await this.#discover(namespace, name)
    if (records.length === 0) {
      throw notFound('micro.registry', `service ${name} not found in namespace ${namespace}`)
    }
    return records
  }

  listServices(options: NamespaceOption = {}): Promise<ServiceRecord[]> {
    return this.#discover(options.namespace ?? DEFAULT_NAMESPACE, undefined)
  }

  watch(options: WatchOptions = {}): Watcher {
    const watcher = this.#hub.watch(options)
    if (this.#closing) {
      watcher.stop()
      return watcher
    }
    const namespace = options.namespace ?? DEFAULT_NAMESPACE
    // Without NATS a watcher would only ever see this instance's changes: end it, so its
    // owner (the registry cache) restarts it later.
    this.#watchSetup = this.#watchSetup
      .then(async () => {
        const { nc, queries } = await this.#connect()
        if (!this.#closing) await this.#watch.start(nc, queries, namespace)
      })
      .catch(() => watcher.stop())
    return watcher
  }

  /** Withdraws this instance's nodes, ends every watcher and releases the connection. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#hub.close()
    const connected = await this.#connected?.catch(() => undefined)
    if (connected) {
      const { nc, link, queries, inbox } = connected
      for (const { announcement } of this.#local.values()) {
        this.#local.withdraw(nc, announcement.namespace, announcement.service)
      }
      if (link.connected) await Promise.race([nc.flush().catch(() => {}), delay(1000)])
      queries.close()
      inbox.unsubscribe()
      this.#watch.stop()
      await link.release()
    }
    this.#local.clear()
    this.#peers.clear()
  }

  #assertOpen(): void {
    if (this.#closing) throw serviceUnavailable('micro.registry', 'the nats registry is closed')
  }

  #connect(): Promise<Connected> {
    this.#connected ??= (async () => {
      const { address, connection } = this.#options
      const link = acquireNats({ address, connection, usedBy: USED_BY })
      try {
        const [nc, nats] = await Promise.all([link.ready, loadNats(USED_BY)])
        const inbox = nats.createInbox()
        const { queryStall = 50, queryTimeout = 1000 } = this.#options
        const queries = new NatsQueries(nc, inbox, queryStall, queryTimeout)
        const subscription = nc.subscribe(`${inbox}.>`, {
          callback: (error, msg) => {
            if (!error) queries.receive(msg)
          },
        })
        // Peers may have expired our nodes while we were away.
        link.onStatus((status) => {
          if (status.type === 'reconnect')
            for (const local of this.#local.values()) this.#local.announce(nc, local)
        })
        return { nc, link, queries, inbox: subscription }
      } catch (error) {
        this.#connected = undefined
        await link.release()
        throw error
      }
    })()
    return this.#connected
  }

  /** Live records of the namespace: this instance's nodes plus every answer to one query. */
  async #discover(namespace: string, service: string | undefined): Promise<ServiceRecord[]> {
    this.#assertOpen()
    const { queries, link } = await this.#connect()
    if (!link.connected)
      throw serviceUnavailable('micro.registry', 'the nats registry is not connected to NATS')
    const wanted = (item: { namespace: string; service: ServiceRecord }) =>
      (namespace === ANY_NAMESPACE || item.namespace === namespace) &&
      (service === undefined || item.service.name === service)
    // Our nodes alive when the lookup started count, however long the answers take.
    const now = Date.now()
    const found = new Map<string, Announcement>()
    for (const local of this.#local.matching(namespace, service)) {
      if (local.expires > now) found.set(local.key, local.announcement)
    }
    const answers = await queries.ask(
      querySubject(this.#prefix, namespace),
      encodeQuery({ from: this.#id, namespace, service }),
    )
    for (const bytes of answers) {
      const answer = readAnswer(bytes)
      if (!answer || answer.from === this.#id) continue
      for (const item of answer.items) {
        if (item.ttl <= 0 || !wanted(item)) continue
        // No copies here: the item was just parsed, and groupAnnouncements copies what it keeps.
        for (const node of item.service.nodes) {
          const announcement = { namespace: item.namespace, service: { ...item.service, nodes: [node] } }
          const key = announcementKey(announcement)
          if (!found.has(key)) found.set(key, announcement)
        }
      }
    }
    return groupAnnouncements(found.values())
  }

  #sweep(): void {
    const now = Date.now()
    const connected = this.#connected
    for (const local of this.#local.values()) {
      if (local.expires <= now) {
        const { namespace, service } = local.announcement
        this.#local.drop(local)
        this.#emit('delete', namespace, service, service.nodes)
        void connected?.then(({ nc }) => this.#local.withdraw(nc, namespace, service))
      } else if (local.expires === Infinity && now - local.announced >= this.#defaultTtl / 2) {
        void connected?.then(({ nc }) => this.#local.announce(nc, local))
      }
    }
    this.#peers.sweep(now)
  }

  #emit(action: WatchAction, namespace: string, service: ServiceRecord, nodes: NodeRecord[]): void {
    if (nodes.length > 0) this.#hub.emit({ action, namespace, service: cloneService(service, nodes) })
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
