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

/**
 * Fans registry changes out to watchers, filtered by namespace and service. Shared by the
 * registry implementations so each only has to say what changed.
 */
export class WatchHub {
  readonly #subscriptions = new Set<Subscription>()

  /** A new watcher; it sees events emitted after this call. */
  watch(options: WatchOptions = {}): Watcher {
    const signal = options.signal
    const detach = () => {
      this.#subscriptions.delete(subscription)
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
    this.#subscriptions.add(subscription)
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
    for (const s of this.#subscriptions) {
      if (s.namespace !== ANY_NAMESPACE && s.namespace !== event.namespace) continue
      if (s.service !== undefined && s.service !== event.service.name) continue
      // Each watcher gets its own copy, so one consumer editing an event cannot affect another.
      s.queue.push(shared ? event : { ...event, service: cloneService(event.service) })
      shared = false
    }
  }

  /** End every watcher (the registry is closing). */
  close(): void {
    for (const s of [...this.#subscriptions]) s.stop()
  }
}
