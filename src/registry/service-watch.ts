import { setTimeout as sleep } from 'node:timers/promises'
import type { PlatformLink } from '../engines/platform.js'
import { MicroError } from '../errors/errors.js'
import type { WatchMessage } from '../platform/services/registry.js'
import { AsyncQueue } from '../util/async-queue.js'
import { applyEvent } from './cache-records.js'
import { cloneService, sameDescription, sameNode } from './records.js'
import {
  ANY_NAMESPACE,
  DEFAULT_NAMESPACE,
  type ServiceRecord,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
} from './registry.js'

const MIN_BACKOFF = 100
const MAX_BACKOFF = 5000

/** What a watch needs from its registry. */
export interface WatchHost {
  readonly link: PlatformLink
  /** The records of a namespace (of one service when named), for resyncing after a reconnect. */
  snapshot(namespace: string, service: string | undefined): Promise<ServiceRecord[]>
  /** The watch got its stream back after losing it: the platform may have forgotten us. */
  reconnected(): void
  /** The watch has stopped. */
  stopped(watch: PlatformWatch): void
}

/**
 * A watch over the platform's `Registry.Watch` stream that outlives the platform: when the
 * stream breaks it reconnects (backing off from 100 ms to 5 s) and resyncs, emitting the
 * creates, updates and deletes that happened while it was away, from a diff of what it knew
 * and what the platform lists now. For `*` only namespaces it has seen events of are resynced.
 */
export class PlatformWatch implements Watcher {
  /** Settles once the first stream is in place (rejects when it could not be opened). */
  readonly ready: Promise<void>
  readonly #host: WatchHost
  readonly #namespace: string
  readonly #service: string | undefined
  readonly #queue: AsyncQueue<WatchEvent>
  readonly #stop = new AbortController()
  /** What this watch knows: `namespace \0 name` → records with their nodes. */
  #state = new Map<string, readonly ServiceRecord[]>()
  #settleReady!: (error?: unknown) => void

  constructor(host: WatchHost, options: WatchOptions) {
    this.#host = host
    this.#namespace = options.namespace ?? DEFAULT_NAMESPACE
    this.#service = options.service
    this.#queue = new AsyncQueue<WatchEvent>({ onReturn: () => this.stop() })
    this.ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (error) => (error === undefined ? resolve() : reject(error))
    })
    this.ready.catch(() => {})
    const signal = options.signal
    if (signal?.aborted) this.stop()
    else {
      signal?.addEventListener('abort', () => this.stop(), { once: true })
      void this.#run()
    }
  }

  /** Whether it has stopped (stop(), its signal, or its registry closed). */
  get stopped(): boolean {
    return this.#stop.signal.aborted
  }

  stop(): void {
    if (this.#stop.signal.aborted) return
    this.#stop.abort()
    this.#queue.end()
    this.#settleReady()
    this.#host.stopped(this)
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return this.#queue
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal
    let connected = false
    let attempts = 0
    let delay = MIN_BACKOFF
    while (!signal.aborted) {
      attempts++
      try {
        const stream = this.#host.link.stream<unknown, WatchMessage>('Registry.Watch', { signal })
        await stream.send({ namespace: this.#namespace, service: this.#service })
        await stream.closeSend()
        for await (const message of stream) {
          if ('ready' in message) {
            await this.#resync(connected)
            // Any stream but the very first: the platform may have lost what we told it.
            if (attempts > 1) this.#host.reconnected()
            connected = true
            delay = MIN_BACKOFF
            this.#settleReady()
          } else {
            this.#apply(message)
            this.#queue.push(message)
          }
        }
      } catch (error) {
        if (!connected) this.#settleReady(MicroError.from(error, 'micro.registry'))
      }
      if (signal.aborted) break
      await sleep(delay, undefined, { signal, ref: false }).catch(() => {})
      delay = Math.min(delay * 2, MAX_BACKOFF)
    }
    this.#queue.end()
  }

  /** Take what the platform lists now; after a reconnect, emit what changed meanwhile. */
  async #resync(emit: boolean): Promise<void> {
    const namespaces =
      this.#namespace === ANY_NAMESPACE
        ? [...new Set([...this.#state.keys()].map((key) => key.slice(0, key.indexOf('\0'))))]
        : [this.#namespace]
    const fresh = new Map<string, readonly ServiceRecord[]>()
    for (const namespace of namespaces) {
      for (const record of await this.#host.snapshot(namespace, this.#service)) {
        const key = `${namespace}\0${record.name}`
        fresh.set(key, [...(fresh.get(key) ?? []), record])
      }
    }
    if (emit) {
      for (const key of new Set([...this.#state.keys(), ...fresh.keys()])) {
        const namespace = key.slice(0, key.indexOf('\0'))
        for (const event of diff(namespace, this.#state.get(key) ?? [], fresh.get(key) ?? []))
          this.#queue.push(event)
      }
    }
    this.#state = fresh
  }

  #apply(event: WatchEvent): void {
    const key = `${event.namespace}\0${event.service.name}`
    const next = applyEvent(this.#state.get(key) ?? [], event)
    if (next.length > 0) this.#state.set(key, next)
    else this.#state.delete(key)
  }
}

/** The events that turn `before` into `after` (records of one service in one namespace). */
export function diff(
  namespace: string,
  before: readonly ServiceRecord[],
  after: readonly ServiceRecord[],
): WatchEvent[] {
  const events: WatchEvent[] = []
  const versions = new Set([...before.map((r) => r.version), ...after.map((r) => r.version)])
  for (const version of versions) {
    const old = before.find((r) => r.version === version)
    const now = after.find((r) => r.version === version)
    if (now) {
      const known = new Map((old?.nodes ?? []).map((n) => [n.id, n]))
      const added = now.nodes.filter((n) => !known.has(n.id))
      const described = old !== undefined && !sameDescription(old, now)
      const changed = now.nodes.filter((n) => {
        const was = known.get(n.id)
        return was !== undefined && (described || !sameNode(was, n))
      })
      if (added.length > 0) events.push({ action: 'create', namespace, service: cloneService(now, added) })
      if (changed.length > 0)
        events.push({ action: 'update', namespace, service: cloneService(now, changed) })
    }
    if (old) {
      const still = new Set((now?.nodes ?? []).map((n) => n.id))
      const gone = old.nodes.filter((n) => !still.has(n.id))
      if (gone.length > 0) events.push({ action: 'delete', namespace, service: cloneService(old, gone) })
    }
  }
  return events
}
