import type { Logger } from '../logger/logger.js'
import type { Headers } from '../transport/frame.js'
import { BaseBroker } from './base.js'
import type { OutgoingMessage } from './broker.js'
import { BrokerDelivery } from './delivery.js'
import { outgoingHeaders } from './headers.js'
import { assertTopic, closedError } from './names.js'
import type { LocalSubscription } from './subscription.js'

interface Group {
  members: LocalSubscription[]
  next: number
}

interface TopicEntry {
  plain: Set<LocalSubscription>
  groups: Map<string, Group>
}

/** The routing table memory brokers share: brokers on one hub see each other's messages. */
export class MemoryHub {
  readonly topics = new Map<string, TopicEntry>()

  /** The subscribers of a topic (made empty when it has none). */
  entry(topic: string): TopicEntry {
    let entry = this.topics.get(topic)
    if (!entry) {
      entry = { plain: new Set(), groups: new Map() }
      this.topics.set(topic, entry)
    }
    return entry
  }

  /** Add a subscription (to its queue group, if it has one). */
  add(sub: LocalSubscription): void {
    const entry = this.entry(sub.topic)
    if (sub.queue === undefined) {
      entry.plain.add(sub)
      return
    }
    const group = entry.groups.get(sub.queue)
    if (group) group.members.push(sub)
    else entry.groups.set(sub.queue, { members: [sub], next: 0 })
  }

  /** Remove a subscription. */
  remove(sub: LocalSubscription): void {
    const entry = this.topics.get(sub.topic)
    if (!entry) return
    entry.plain.delete(sub)
    const group = sub.queue === undefined ? undefined : entry.groups.get(sub.queue)
    if (group) {
      group.members = group.members.filter((m) => m !== sub)
      if (group.members.length === 0) entry.groups.delete(sub.queue as string)
    }
    if (entry.plain.size === 0 && entry.groups.size === 0) this.topics.delete(sub.topic)
  }

  /** The next member of a group, round robin. */
  pick(topic: string, queue: string): LocalSubscription | undefined {
    const group = this.topics.get(topic)?.groups.get(queue)
    if (!group || group.members.length === 0) return undefined
    const member = group.members[group.next % group.members.length]
    group.next = (group.next + 1) % group.members.length
    return member
  }
}

let shared: MemoryHub | undefined

/** The hub `createBroker('memory')` uses: one per process. */
export function sharedMemoryHub(): MemoryHub {
  shared ??= new MemoryHub()
  return shared
}

/** Options of {@link MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Share routing with other memory brokers on this hub. Default: a hub of its own. */
  hub?: MemoryHub
  logger?: Logger
}

/**
 * A broker inside one process, for tests and for services that run together. Queue groups
 * are served round robin. It has real acks: `nack()` (requeue) delivers the message again,
 * to the same plain subscription or to a member of the group, marked `redelivered`, up to
 * the retry limit (then to the dead-letter topic).
 * Nothing survives the process.
 */
export class MemoryBroker extends BaseBroker<void> {
  readonly #hub: MemoryHub

  constructor(options: MemoryBrokerOptions = {}) {
    super('memory', options.logger)
    this.#hub = options.hub ?? new MemoryHub()
  }

  /** Publish a message on a topic (see {@link Broker.publish}). */
  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (this.closed) throw closedError(this.name)
    assertTopic(topic, this.name)
    const headers = outgoingHeaders(topic, message.headers)
    // The publisher may reuse its buffer; subscribers get a copy of their own.
    const body = new Uint8Array(message.body)
    const entry = this.#hub.topics.get(topic)
    if (!entry) return
    for (const sub of entry.plain) this.#deliver(sub, topic, headers, body, false)
    for (const queue of entry.groups.keys()) {
      const member = this.#hub.pick(topic, queue)
      if (member) this.#deliver(member, topic, headers, body, false)
    }
  }

  protected async open(): Promise<void> {}

  protected async attach(sub: LocalSubscription): Promise<void> {
    this.#hub.add(sub)
    sub.detach = async () => this.#hub.remove(sub)
  }

  protected async release(): Promise<void> {}

  #deliver(
    sub: LocalSubscription,
    topic: string,
    headers: Headers,
    body: Uint8Array,
    redelivered: boolean,
  ): void {
    const delivery = new BrokerDelivery({
      topic,
      queue: sub.queue,
      headers: { ...headers },
      body,
      redelivered,
      settler: {
        ack: () => {},
        nack: (requeue) => {
          if (requeue) setImmediate(() => this.#redeliver(sub, topic, headers, body))
        },
        requeue: (counted) => {
          setImmediate(() => this.#redeliver(sub, topic, counted, body))
        },
      },
    })
    sub.inbox.push(delivery)
  }

  #redeliver(sub: LocalSubscription, topic: string, headers: Headers, body: Uint8Array): void {
    const target = sub.queue === undefined ? (sub.active ? sub : undefined) : this.#hub.pick(topic, sub.queue)
    if (target) this.#deliver(target, topic, headers, body, true)
  }
}
