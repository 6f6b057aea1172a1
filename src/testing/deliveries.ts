import type { Broker, Subscription } from '../broker/broker.js'

/**
 * Follows the service's subscriptions on the test broker so a test can publish and then
 * wait until every subscription that should get the message has handled it (a plain
 * subscription gets each message, a queue group one per group).
 */
export class DeliveryTracker {
  readonly #subscriptions = new Map<string, { plain: number; queues: Map<string, number> }>()
  readonly #handled = new Map<string, number>()
  readonly #waiters = new Set<() => void>()

  /** The broker wrapper that counts subscriptions and finished deliveries. */
  wrap(broker: Broker): Broker {
    return {
      get name() {
        return broker.name
      },
      connect: () => broker.connect(),
      close: () => broker.close(),
      publish: (topic, message) => broker.publish(topic, message),
      subscribe: async (topic, handler, options) => {
        const sub = await broker.subscribe(
          topic,
          async (delivery) => {
            try {
              return await handler(delivery)
            } finally {
              this.#handled.set(topic, this.handled(topic) + 1)
              for (const wake of this.#waiters) wake()
            }
          },
          options,
        )
        this.#count(topic, sub.queue, 1)
        let counted = true
        const tracked: Subscription = {
          topic: sub.topic,
          queue: sub.queue,
          unsubscribe: async () => {
            if (counted) this.#count(topic, sub.queue, -1)
            counted = false
            await sub.unsubscribe()
          },
        }
        return tracked
      },
    }
  }

  /** Deliveries of `topic` handled so far. */
  handled(topic: string): number {
    return this.#handled.get(topic) ?? 0
  }

  /** How many handlings one publish to `topic` causes now. */
  expected(topic: string): number {
    const entry = this.#subscriptions.get(topic)
    return entry ? entry.plain + entry.queues.size : 0
  }

  /** Resolve once `topic` has `count` handled deliveries; reject after `timeoutMs`. */
  waitFor(topic: string, count: number, timeoutMs: number): Promise<void> {
    if (this.handled(topic) >= count) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.handled(topic) < count) return
        this.#waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(
          new Error(
            `the service handled ${this.handled(topic)} of ${count} deliveries of ${topic} within ${timeoutMs} ms`,
          ),
        )
      }, timeoutMs)
      this.#waiters.add(check)
    })
  }

  #count(topic: string, queue: string | undefined, delta: number): void {
    let entry = this.#subscriptions.get(topic)
    if (!entry) {
      entry = { plain: 0, queues: new Map() }
      this.#subscriptions.set(topic, entry)
    }
    if (queue === undefined) {
      entry.plain += delta
      return
    }
    const members = (entry.queues.get(queue) ?? 0) + delta
    if (members > 0) entry.queues.set(queue, members)
    else entry.queues.delete(queue)
  }
}
