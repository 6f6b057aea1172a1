import { type Announcement, announcedNode, announcementKey } from './mdns-records.js'
import { cloneNode, cloneService, sameDescription, sameNode } from './records.js'
import type { ServiceRecord, WatchAction } from './registry.js'
import type { WatchHub } from './watch-hub.js'

interface PeerEntry {
  announcement: Announcement
  /** Epoch ms: receipt time plus the record TTL. */
  expires: number
}

/**
 * The nodes other processes announced, as last heard on the multicast group. Feeds watchers:
 * a node first heard is a `create`, a changed one an `update`, a goodbye (TTL 0) or a TTL that
 * ran out without renewal a `delete`.
 */
export class PeerCache {
  readonly #entries = new Map<string, PeerEntry>()
  readonly #hub: WatchHub
  readonly #maxEntries: number

  /** `maxEntries` bounds the nodes remembered: past it, new nodes are refused until some expire. */
  constructor(hub: WatchHub, maxEntries = Number.POSITIVE_INFINITY) {
    this.#hub = hub
    this.#maxEntries = maxEntries
  }

  /**
   * Apply an announcement heard at `now` with a record TTL in seconds (0 withdraws it). Returns
   * false when a new node was refused because the cache is full.
   */
  apply(announcement: Announcement, ttlSeconds: number, now = Date.now()): boolean {
    const key = announcementKey(announcement)
    const existing = this.#entries.get(key)
    if (ttlSeconds <= 0) {
      if (!existing) return true
      this.#entries.delete(key)
      this.#emit('delete', existing.announcement)
      return true
    }
    if (!existing && this.#entries.size >= this.#maxEntries) return false
    this.#entries.set(key, { announcement, expires: now + ttlSeconds * 1000 })
    if (!existing) {
      this.#emit('create', announcement)
    } else if (
      !sameDescription(existing.announcement.service, announcement.service) ||
      !sameNode(announcedNode(existing.announcement), announcedNode(announcement))
    ) {
      this.#emit('update', announcement)
    }
    return true
  }

  /**
   * Learn a node that existed before anyone watched, without an event: only its later
   * change, withdrawal or expiry is news. A node already known is left as it is.
   */
  prime(announcement: Announcement, ttlSeconds: number, now = Date.now()): void {
    const key = announcementKey(announcement)
    if (ttlSeconds > 0 && !this.#entries.has(key) && this.#entries.size < this.#maxEntries) {
      this.#entries.set(key, { announcement, expires: now + ttlSeconds * 1000 })
    }
  }

  /** Forget a node without telling watchers (this process now owns it). */
  take(key: string): Announcement | undefined {
    const entry = this.#entries.get(key)
    this.#entries.delete(key)
    return entry?.announcement
  }

  /** Drop nodes whose TTL ran out, telling watchers. */
  sweep(now = Date.now()): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expires > now) continue
      this.#entries.delete(key)
      this.#emit('delete', entry.announcement)
    }
  }

  clear(): void {
    this.#entries.clear()
  }

  #emit(action: WatchAction, announcement: Announcement): void {
    this.#hub.emit({ action, namespace: announcement.namespace, service: cloneService(announcement.service) })
  }
}

/**
 * Merge single-node announcements into one record per namespace, service and version. The
 * first announcement of a version gives its metadata and endpoints; a node appears once.
 */
export function groupAnnouncements(announcements: Iterable<Announcement>): ServiceRecord[] {
  const groups = new Map<string, ServiceRecord>()
  for (const { namespace, service } of announcements) {
    const key = `${namespace}\0${service.name}\0${service.version}`
    let record = groups.get(key)
    if (!record) {
      record = cloneService(service, [])
      groups.set(key, record)
    }
    for (const node of service.nodes) {
      if (!record.nodes.some((n) => n.id === node.id)) record.nodes.push(cloneNode(node))
    }
  }
  return [...groups.values()]
}
