import { AsyncQueue } from '../util/async-queue.js'
import { cloneService } from './records.js'
import {
  ANY_NAMESPACE,
  DEFAULT_NAMESPACE,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
} from './registry.js'

interface Subscription {
  namespace: string
  service: string | undefined
  queue: AsyncQueue<WatchEvent>
  stop: () => void
}

/** The watchers of one namespace (or of `*`): those of every service, and those of one. */
interface NamespaceWatchers {
  all: Set<Subscription>
  byService: Map<string, Set<Subscription>>
}

/**
 * Fans registry changes out to watchers, filtered by namespace and service. Shared by the
 * registry implementations so each only has to say what changed. Watchers are indexed by
 * namespace and service, so an event costs the watchers it concerns, not every watcher (a
 * client cache runs one per service it has looked up).
 */
export class WatchHub {
  readonly #namespaces = new Map<string, NamespaceWatchers>()

  /** A new watcher; it sees events emitted after this call. */
  watch(options: WatchOptions = {}): Watcher {
    const signal = options.signal
    const detach = () => {
      this.#remove(subscription)
      // A long-lived signal (e.g. a service's shutdown signal) must not keep dead watchers alive.
      signal?.removeEventListener('abort', stop)
    }
    const subscription: Subscription = {
      namespace: options.namespace ?? DEFAULT_NAMESPACE,
      service: options.service,
      queue: new AsyncQueue<WatchEvent>({ onReturn: detach }),
      stop: () => {
        detach()
        subscription.queue.end()
      },
    }
    const stop = subscription.stop
    this.#add(subscription)
    if (signal?.aborted) stop()
    else signal?.addEventListener('abort', stop, { once: true })
    const queue = subscription.queue
    return {
      stop,
      [Symbol.asyncIterator]: () => queue,
    }
  }

  /** Deliver an event to every watcher whose filter matches. */
  emit(event: WatchEvent): void {
    let shared = true
    const namespaces = event.namespace === ANY_NAMESPACE ? [ANY_NAMESPACE] : [event.namespace, ANY_NAMESPACE]
    for (const namespace of namespaces) {
      const watchers = this.#namespaces.get(namespace)
      if (!watchers) continue
      for (const group of [watchers.all, watchers.byService.get(event.service.name)]) {
        for (const s of group ?? []) {
          // Each watcher gets its own copy, so one consumer editing an event cannot affect another.
          s.queue.push(shared ? event : { ...event, service: cloneService(event.service) })
          shared = false
        }
      }
    }
  }

  /** End every watcher (the registry is closing). */
  close(): void {
    for (const watchers of [...this.#namespaces.values()]) {
      for (const s of [...watchers.all]) s.stop()
      for (const group of [...watchers.byService.values()]) for (const s of [...group]) s.stop()
    }
  }

  #add(s: Subscription): void {
    let watchers = this.#namespaces.get(s.namespace)
    if (!watchers) {
      watchers = { all: new Set(), byService: new Map() }
      this.#namespaces.set(s.namespace, watchers)
    }
    if (s.service === undefined) {
      watchers.all.add(s)
      return
    }
    let group = watchers.byService.get(s.service)
    if (!group) {
      group = new Set()
      watchers.byService.set(s.service, group)
    }
    group.add(s)
  }

  #remove(s: Subscription): void {
    const watchers = this.#namespaces.get(s.namespace)
    if (!watchers) return
    if (s.service === undefined) watchers.all.delete(s)
    else {
      const group = watchers.byService.get(s.service)
      group?.delete(s)
      if (group?.size === 0) watchers.byService.delete(s.service)
    }
    if (watchers.all.size === 0 && watchers.byService.size === 0) this.#namespaces.delete(s.namespace)
  }
}
