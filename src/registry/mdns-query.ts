import { setTimeout as sleep } from 'node:timers/promises'
import { ANY_TYPE_NAME, namespaceTypeName, serviceTypeName } from './mdns-names.js'
import { type Announcement, announcementKey } from './mdns-records.js'

/** Answers gathered during one query window. */
interface Window {
  /** The PTR name asked for. */
  typeName: string
  found: Map<string, Announcement>
}

/**
 * Lookups over mDNS: send a PTR query, then gather the answers heard within the query
 * timeout. One query per PTR name is in flight at a time; concurrent lookups share its answers,
 * so a burst of getService calls costs one packet, not one each.
 */
export class MdnsQueries {
  readonly #windows = new Set<Window>()
  readonly #inFlight = new Map<string, Promise<Map<string, Announcement>>>()
  readonly #send: (typeName: string) => Promise<void>
  readonly #timeout: number

  /** `send` multicasts the query; `timeout` is how long answers are gathered, in ms. */
  constructor(send: (typeName: string) => Promise<void>, timeout: number) {
    this.#send = send
    this.#timeout = timeout
  }

  /** The live announcements answering `typeName`, keyed by announcementKey. */
  ask(typeName: string): Promise<Map<string, Announcement>> {
    const inFlight = this.#inFlight.get(typeName)
    if (inFlight) return inFlight
    const window: Window = { typeName, found: new Map() }
    this.#windows.add(window)
    const query = this.#gather(window).finally(() => {
      this.#windows.delete(window)
      if (this.#inFlight.get(typeName) === query) this.#inFlight.delete(typeName)
    })
    this.#inFlight.set(typeName, query)
    return query
  }

  async #gather(window: Window): Promise<Map<string, Announcement>> {
    await this.#send(window.typeName)
    await sleep(this.#timeout)
    return window.found
  }

  /** Offer an announcement heard on the group to the open windows (TTL 0 withdraws it). */
  offer(announcement: Announcement, ttl: number): void {
    if (this.#windows.size === 0) return
    const { namespace, service } = announcement
    // The PTR names this node answers to: any namespace, its namespace, its service.
    const typeNames = [ANY_TYPE_NAME, namespaceTypeName(namespace), serviceTypeName(namespace, service.name)]
    const key = announcementKey(announcement)
    for (const window of this.#windows) {
      if (!typeNames.includes(window.typeName)) continue
      if (ttl > 0) window.found.set(key, announcement)
      else window.found.delete(key)
    }
  }
}
