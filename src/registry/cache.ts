import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError, notFound } from '../errors/errors.js'
import { turnClock } from '../util/clock.js'
import { applyEvent, frozenRecord } from './cache-records.js'
import { DEFAULT_NAMESPACE, type Registry, type ServiceRecord, type WatchEvent } from './registry.js'

/** Options of {@link RegistryCache}. */
export interface RegistryCacheOptions {
  /** How long a lookup's answer is served before the registry is asked again, in ms. Default 60 000. */
  ttl?: number
  /** After a failed lookup, how long the stale answer is served before asking again, in ms. Default 1000. */
  retryInterval?: number
  /** First delay before restarting a failed watcher, in ms; doubles per failure. Default 100. */
  minBackoff?: number
  /** Longest delay between watcher restarts, in ms. Default 10 000. */
  maxBackoff?: number
}

/** What the cache knows about one service in one namespace. */
interface Slot {
  name: string
  namespace: string
  /** Frozen records; undefined when unknown (never looked up, 404, or every node gone). */
  records: readonly ServiceRecord[] | undefined
  /** Epoch ms until which `records` is fresh. */
  expires: number
  /** Epoch ms before which a failed registry is not asked again (the stale records are served). */
  retryAt: number
  lookup: Promise<readonly ServiceRecord[]> | undefined
  /** Watch events that arrived during a lookup, replayed onto its answer. */
  pending: WatchEvent[] | undefined
  watch: AbortController
}

/**
 * The client's view of the registry: answers from memory while fresh, one lookup at a time
 * per service (single flight), kept current by a watch started on first lookup, and the stale
 * answer when the registry fails (stale-if-error). `close()` stops the watches; the wrapped
 * registry stays open, since its owner closes it.
 */
export class RegistryCache {
  readonly #registry: Registry
  readonly #ttl: number
  readonly #retryInterval: number
  readonly #minBackoff: number
  readonly #maxBackoff: number
  readonly #slots = new Map<string, Slot>()
  readonly #loops = new Set<Promise<void>>()
  #closed = false
  /** The last key `peek` built: calls repeat their service, and building it allocated per call. */
  #lastKey: { name: string; namespace: string; key: string } | undefined

  constructor(registry: Registry, options: RegistryCacheOptions = {}) {
    this.#registry = registry
    this.#ttl = options.ttl ?? 60_000
    this.#retryInterval = options.retryInterval ?? 1000
    this.#minBackoff = options.minBackoff ?? 100
    this.#maxBackoff = options.maxBackoff ?? 10_000
  }

  /**
   * The fresh cached records of a service, or undefined when a lookup is needed. Synchronous
   * for the call hot path; the records are frozen and shared, never to be edited.
   */
  peek(name: string, namespace = DEFAULT_NAMESPACE): readonly ServiceRecord[] | undefined {
    let last = this.#lastKey
    if (last === undefined || last.name !== name || last.namespace !== namespace) {
      last = { name, namespace, key: slotKey(name, namespace) }
      this.#lastKey = last
    }
    const slot = this.#slots.get(last.key)
    if (!slot?.records || slot.expires <= turnClock()) return undefined
    return slot.records
  }

  /**
   * The records of a service: from the cache when fresh, else from the registry (concurrent
   * callers share one lookup). Rejects with the registry's 404 when there is none.
   */
  async getService(name: string, namespace = DEFAULT_NAMESPACE): Promise<readonly ServiceRecord[]> {
    if (this.#closed) return (await this.#registry.getService(name, { namespace })).map(frozenRecord)
    const slot = this.#slot(name, namespace)
    const now = Date.now()
    if (slot.records && (slot.expires > now || slot.retryAt > now)) return slot.records
    return this.#lookup(slot)
  }

  /** Stops every watch and forgets everything cached. */
  async close(): Promise<void> {
    this.#closed = true
    for (const slot of this.#slots.values()) slot.watch.abort()
    this.#slots.clear()
    await Promise.all(this.#loops)
  }

  #slot(name: string, namespace: string): Slot {
    const key = slotKey(name, namespace)
    let slot = this.#slots.get(key)
    if (!slot) {
      const watch = new AbortController()
      slot = {
        name,
        namespace,
        records: undefined,
        expires: 0,
        retryAt: 0,
        lookup: undefined,
        pending: undefined,
        watch,
      }
      this.#slots.set(key, slot)
      const loop = this.#watchLoop(slot)
      this.#loops.add(loop)
      void loop.finally(() => this.#loops.delete(loop))
    }
    return slot
  }

  #lookup(slot: Slot): Promise<readonly ServiceRecord[]> {
    if (slot.lookup) return slot.lookup
    slot.pending = []
    const lookup = this.#fetch(slot).finally(() => {
      if (slot.lookup === lookup) slot.lookup = undefined
    })
    slot.lookup = lookup
    return lookup
  }

  async #fetch(slot: Slot): Promise<readonly ServiceRecord[]> {
    const { name, namespace } = slot
    let found: readonly ServiceRecord[] | undefined
    let failure: unknown
    try {
      found = (await this.#registry.getService(name, { namespace })).map(frozenRecord)
    } catch (error) {
      failure = error
    }
    const pending = slot.pending ?? []
    slot.pending = undefined
    if (found) {
      slot.records = replay(found, pending)
      slot.expires = Date.now() + this.#ttl
      slot.retryAt = 0
    } else if (MicroError.from(failure).code === 404) {
      this.#forget(slot)
      throw failure
    } else {
      // Stale-if-error: the last answer (kept current by the watch) beats no answer.
      slot.records = slot.records && replay(slot.records, pending)
      if (!slot.records) throw failure
      slot.retryAt = Date.now() + this.#retryInterval
    }
    if (!slot.records) {
      // Every node went away while the lookup ran.
      this.#forget(slot)
      throw notFound('micro.registry', `service ${name} not found in namespace ${namespace}`)
    }
    return slot.records
  }

  /** Drop a slot (its service is gone) and its watch; a later lookup starts afresh. */
  #forget(slot: Slot): void {
    slot.records = undefined
    slot.watch.abort()
    const key = slotKey(slot.name, slot.namespace)
    if (this.#slots.get(key) === slot) this.#slots.delete(key)
  }

  #onEvent(slot: Slot, event: WatchEvent): void {
    if (event.namespace !== slot.namespace || event.service.name !== slot.name) return
    if (slot.pending) {
      slot.pending.push(event)
      return
    }
    if (!slot.records) return
    const next = applyEvent(slot.records, event)
    slot.records = next.length > 0 ? next : undefined
  }

  /** Keep a watch running for the slot until it is dropped, restarting with back-off. */
  async #watchLoop(slot: Slot): Promise<void> {
    const signal = slot.watch.signal
    let delay = this.#minBackoff
    while (!signal.aborted) {
      let delivered = false
      try {
        const watcher = this.#registry.watch({ namespace: slot.namespace, service: slot.name, signal })
        for await (const event of watcher) {
          delivered = true
          this.#onEvent(slot, event)
        }
      } catch {
        // A failed watch is restarted below, like one that ended.
      }
      if (signal.aborted) return
      // Events may be lost until the new watch runs, so the next read must ask the registry.
      slot.expires = 0
      if (delivered) delay = this.#minBackoff
      await sleep(delay, undefined, { signal, ref: false }).catch(() => {})
      delay = Math.min(delay * 2, this.#maxBackoff)
    }
  }
}

/** Apply the events buffered during a lookup; undefined when no node is left. */
function replay(
  records: readonly ServiceRecord[],
  events: WatchEvent[],
): readonly ServiceRecord[] | undefined {
  let next = records
  for (const event of events) next = applyEvent(next, event)
  return next.length > 0 ? next : undefined
}

function slotKey(name: string, namespace: string): string {
  return `${namespace}\0${name}`
}
