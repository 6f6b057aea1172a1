import { setTimeout as sleep } from 'node:timers/promises'
import { ANY_TYPE_NAME, namespaceTypeName, serviceTypeName } from './mdns-names.js'
import { type Announcement, announcementKey } from './mdns-records.js'

/** Answers gathered during one query window. */
interface Window {
  /** The PTR name asked for. */
  typeName: string
  found: Map<string, Announcement>
  /** Called when an answer arrives, while a lookup waits for a first one. */
  answered?: () => void
}

/** Once a late first answer has arrived, how long to wait for the others of that round, ms. */
const LATE_ANSWERS_MS = 50

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
  readonly #patience: number

  /**
   * `send` multicasts the query; `timeout` is how long answers are gathered, in ms. When
   * none has come by then, the query is sent again and a first answer awaited until
   * `patience` ms have passed in all: a busy peer may answer late, and "not found" should
   * not be said of a service that is there.
   */
  constructor(send: (typeName: string) => Promise<void>, timeout: number, patience?: number) {
    this.#send = send
    this.#timeout = timeout
    this.#patience = Math.max(timeout, patience ?? timeout)
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
    const started = Date.now()
    await this.#send(window.typeName)
    await sleep(this.#timeout)
    const left = started + this.#patience - Date.now()
    if (window.found.size > 0 || left <= 0) return window.found
    await this.#send(window.typeName)
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>((resolve) => {
      window.answered = resolve
      timer = setTimeout(resolve, left)
    })
    clearTimeout(timer)
    window.answered = undefined
    if (window.found.size > 0) await sleep(LATE_ANSWERS_MS)
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
      if (ttl > 0) {
        window.found.set(key, announcement)
        window.answered?.()
      } else window.found.delete(key)
    }
  }
}
