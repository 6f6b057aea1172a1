import { AsyncQueue } from '../util/async-queue.js'
import { ANY_NAMESPACE, DEFAULT_NAMESPACE, type WatchEvent, type WatchOptions, type Watcher } from './registry.js'

interface Subscription {
  namespace: string
  service: string | undefined
  queue: AsyncQueue<WatchEvent>
}

/**
 * Fans registry changes out to watchers, filtered by namespace and service. Shared by the
 * registry implementations so each only has to say what changed.
 */
export class WatchHub {
  readonly #subscriptions = new Set<Subscription>()

  /** A new watcher; it sees events emitted after this call. */
  watch(options: WatchOptions = {}): Watcher {
    const subscription: Subscription = {
      namespace: options.namespace ?? DEFAULT_NAMESPACE,
      service: options.service,
      queue: new AsyncQueue<WatchEvent>({ onReturn: () => this.#subscriptions.delete(subscription) }),
    }
    this.#subscriptions.add(subscription)
    const stop = () => {
      this.#subscriptions.delete(subscription)
      subscription.queue.end()
    }
    options.signal?.addEventListener('abort', stop, { once: true })
    if (options.signal?.aborted) stop()
    const queue = subscription.queue
    return {
      stop,
      [Symbol.asyncIterator]: () => queue,
    }
  }

  /** Deliver an event to every watcher whose filter matches. */
  emit(event: WatchEvent): void {
    for (const s of this.#subscriptions) {
      if (s.namespace !== ANY_NAMESPACE && s.namespace !== event.namespace) continue
      if (s.service !== undefined && s.service !== event.service.name) continue
      s.queue.push(event)
    }
  }

  /** End every watcher (the registry is closing). */
  close(): void {
    for (const s of this.#subscriptions) s.queue.end()
    this.#subscriptions.clear()
  }
}
