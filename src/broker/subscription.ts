import { canceled } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { DeliveryHandler, OutgoingMessage, SubscribeOptions, Subscription } from './broker.js'
import { Inbox } from './inbox.js'
import { assertQueue, assertTopic, positive } from './names.js'
import { retryPlan } from './retry.js'

/** A subscription held by a broker: its inbox, and how to tell the engine to stop. */
export class LocalSubscription implements Subscription {
  readonly topic: string
  readonly queue: string | undefined
  readonly inbox: Inbox
  readonly autoAck: boolean
  /** Set by the broker once the engine routes to it: what stops the engine side. */
  detach: () => Promise<void> = async () => {}
  readonly #owner: Set<LocalSubscription>
  readonly #signal: AbortSignal | undefined
  readonly #onAbort = () => void this.unsubscribe()
  #ending: Promise<void> | undefined

  constructor(
    topic: string,
    queue: string | undefined,
    inbox: Inbox,
    autoAck: boolean,
    owner: Set<LocalSubscription>,
    signal?: AbortSignal,
  ) {
    this.topic = topic
    this.queue = queue
    this.inbox = inbox
    this.autoAck = autoAck
    this.#owner = owner
    this.#signal = signal
    owner.add(this)
  }

  /** Start listening to the signal; call once the engine side is attached. */
  watchSignal(): void {
    if (this.#signal?.aborted) void this.unsubscribe()
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  get active(): boolean {
    return this.#ending === undefined
  }

  unsubscribe(): Promise<void> {
    this.#ending ??= this.#end()
    return this.#ending
  }

  async #end(): Promise<void> {
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#owner.delete(this)
    this.inbox.stop()
    await this.detach()
  }
}

/**
 * Check a subscribe call and build its subscription (not yet attached to the engine).
 * An already aborted signal rejects with a 499. `publish` is the broker's, for dead letters.
 */
export function newSubscription(
  broker: string,
  owner: Set<LocalSubscription>,
  logger: Logger,
  topic: string,
  handler: DeliveryHandler,
  publish: (topic: string, message: OutgoingMessage) => Promise<void>,
  options: SubscribeOptions = {},
  limit?: number,
): LocalSubscription {
  assertTopic(topic, broker)
  assertQueue(options.queue, broker)
  if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler function')
  if (options.signal?.aborted) throw canceled('micro.broker', `subscribe to ${topic} aborted`)
  const { maxAttempts, deadLetter } = retryPlan(broker, topic, options.retryLimit, options.deadLetter)
  if (deadLetter !== false) assertTopic(deadLetter, broker)
  const autoAck = options.autoAck ?? true
  const inbox = new Inbox({
    broker,
    topic,
    queue: options.queue,
    handler,
    autoAck,
    concurrency: positive(options.concurrency, 1, 'concurrency'),
    logger,
    limit,
    retry: { maxAttempts, deadLetter, publish },
  })
  return new LocalSubscription(topic, options.queue, inbox, autoAck, owner, options.signal)
}

/** Unsubscribe every subscription of a broker (on close). */
export async function unsubscribeAll(owner: Set<LocalSubscription>): Promise<void> {
  await Promise.allSettled([...owner].map((s) => s.unsubscribe()))
}
