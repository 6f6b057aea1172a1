import type { Claim, GroupRef, GroupStart, LocalLog, Peek } from './local-log.js'
import type { ConsumePlan } from './options.js'
import type { Accept, Delivery, DeliverySource } from './source.js'

/** A wait armed before looking, so a wake-up between looking and waiting is not lost. */
interface Armed {
  until(ms: number, signal: AbortSignal): Promise<void>
  cancel(): void
}

/** Wakes the consumers of a topic in this process when something changes for them. */
export class WakeHub {
  readonly #waiters = new Map<string, Set<() => void>>()

  arm(namespace: string, topic: string): Armed {
    const key = `${namespace}\u0000${topic}`
    let set = this.#waiters.get(key)
    if (!set) {
      set = new Set()
      this.#waiters.set(key, set)
    }
    const waiters = set
    let wake!: () => void
    const woken = new Promise<void>((resolve) => {
      wake = resolve
    })
    waiters.add(wake)
    const cancel = () => {
      waiters.delete(wake)
      if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
    }
    return {
      cancel,
      until: async (ms, signal) => {
        let timer: NodeJS.Timeout | undefined
        const onAbort = () => wake()
        // An abort during the look before this wait fires no event: check for it here.
        if (signal.aborted) wake()
        signal.addEventListener('abort', onAbort, { once: true })
        if (Number.isFinite(ms)) timer = setTimeout(wake, Math.max(0, ms))
        try {
          await woken
        } finally {
          clearTimeout(timer)
          signal.removeEventListener('abort', onAbort)
          cancel()
        }
      },
    }
  }

  notify(namespace: string, topic: string): void {
    const waiters = this.#waiters.get(`${namespace}\u0000${topic}`)
    if (!waiters) return
    for (const wake of [...waiters]) wake()
  }

  /** Wake everyone (on close). */
  notifyAll(): void {
    for (const waiters of this.#waiters.values()) for (const wake of [...waiters]) wake()
  }
}

/**
 * A consumer's source over a local log: claims when a cheap look says there is work, and
 * otherwise sleeps until woken by this process, the next pending deadline, or the poll
 * interval (which is how changes made by other processes are noticed).
 */
export class LocalSource implements DeliverySource {
  /** Claims are local and cheap: one at a time. */
  readonly overlap = 1
  readonly #log: LocalLog
  readonly #hub: WakeHub
  readonly #poll: number
  readonly #plan: ConsumePlan
  readonly #ref: GroupRef

  constructor(log: LocalLog, hub: WakeHub, poll: number, plan: ConsumePlan) {
    this.#log = log
    this.#hub = hub
    this.#poll = poll
    this.#plan = plan
    this.#ref = { namespace: plan.namespace, topic: plan.topic, group: plan.group }
  }

  async start(): Promise<void> {
    const offset = this.#plan.offset
    const start: GroupStart =
      offset === undefined
        ? 'next'
        : offset instanceof Date
          ? { time: offset.getTime() }
          : { sequence: offset }
    await this.#log.joinGroup(this.#ref, start, this.#plan.private)
  }

  async pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    const { namespace, topic, ackWait } = this.#plan
    while (!signal.aborted) {
      const armed = this.#hub.arm(namespace, topic)
      const now = Date.now()
      let peek: Peek
      let claims: Claim[] = []
      try {
        peek = await this.#log.peek(this.#ref, now)
        if (peek.due) claims = await this.#log.claim(this.#ref, ackWait, max)
      } catch (error) {
        armed.cancel()
        throw error
      }
      if (claims.length > 0) {
        armed.cancel()
        for (const claim of claims) accept(this.#delivery(claim))
        return
      }
      await armed.until(Math.min(this.#poll, peek.nextDeadline - now), signal)
    }
  }

  async close(): Promise<void> {
    if (this.#plan.private) await this.#log.leaveGroup(this.#ref)
  }

  #delivery({ event, attempt }: Claim): Delivery {
    const ref = this.#ref
    const { namespace, topic, deadLetter } = this.#plan
    const log = this.#log
    const sequence = event.sequence
    return {
      event,
      attempt,
      ack: () => log.ack(ref, sequence),
      nack: async () => {
        await log.nack(ref, sequence, attempt, false)
        this.#hub.notify(namespace, topic)
      },
      release: async () => {
        await log.nack(ref, sequence, attempt, true)
        this.#hub.notify(namespace, topic)
      },
      deadLetter: async (reason, undecodable) => {
        await log.deadLetter(ref, sequence, deadLetter, { reason, group: ref.group, attempt, undecodable })
        if (deadLetter !== false) this.#hub.notify(namespace, deadLetter)
      },
    }
  }
}
