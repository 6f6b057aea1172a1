import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Broker, Delivery, SubscribeOptions, Subscription } from './broker.js'

/** Options of `brokerConformance`. */
export interface BrokerConformanceOptions {
  /** How many messages the volume test sends. Default 2000. */
  many?: number
  /** How long a negative check waits for messages that must not come, ms. Default 150. */
  quietMs?: number
  /** Runs after the suite (delete queues, close shared clients). */
  cleanup?: () => Promise<void>
}

/** What every conformance test gets. */
export interface Kit {
  /** A new broker from the factory, closed after the test. */
  broker(): Promise<Broker>
  /** A topic no other test or run uses. */
  topic(label?: string): string
  quiet(): Promise<void>
  options: Required<Omit<BrokerConformanceOptions, 'cleanup'>>
}

/** Builds a kit; `done()` closes every broker it made. */
export function newKit(
  create: () => Promise<Broker> | Broker,
  options: BrokerConformanceOptions,
): Kit & { done(): Promise<void> } {
  const made: Broker[] = []
  const run = randomUUID().slice(0, 8)
  let n = 0
  const resolved = {
    many: options.many ?? 2000,
    quietMs: options.quietMs ?? 150,
  }
  return {
    options: resolved,
    async broker() {
      const broker = await create()
      made.push(broker)
      return broker
    },
    topic(label = 't') {
      n++
      return `conformance.${run}.${label}${n}`
    },
    quiet: () => sleep(resolved.quietMs),
    async done() {
      await Promise.allSettled(made.splice(0).map((b) => b.close()))
    },
  }
}

/** Everything one subscription received, with a way to wait for a count. */
export interface Collector {
  sub: Subscription
  received: Delivery[]
  bodies(): string[]
  waitFor(count: number, ms?: number): Promise<void>
}

/** Subscribe with a handler that records deliveries (and then runs `also`). */
export async function collect(
  broker: Broker,
  topic: string,
  options: SubscribeOptions = {},
  also?: (d: Delivery) => unknown,
): Promise<Collector> {
  const received: Delivery[] = []
  const sub = await broker.subscribe(
    topic,
    async (d) => {
      received.push(d)
      await also?.(d)
    },
    options,
  )
  return {
    sub,
    received,
    bodies: () => received.map((d) => text(d.body)),
    waitFor: (count, ms) =>
      waitUntil(
        () => received.length >= count,
        ms,
        () => `${received.length}/${count} messages on ${topic}`,
      ),
  }
}

/** Poll `check` every 5 ms until it holds; fail after `ms` (default 15 s) naming what was missing. */
export async function waitUntil(
  check: () => boolean,
  ms = 15_000,
  what: () => string = () => 'condition',
): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`)
    await sleep(5)
  }
}

export const bytes = (value: string): Uint8Array => Buffer.from(value)
export const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8')
