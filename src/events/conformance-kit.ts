import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import type { EventConsumer, Events, ReceivedEvent } from './events.js'

/** What every conformance test gets. */
export interface SuiteContext {
  /** Runs `fn` with a new Events, a namespace and a topic no other run uses; closes and cleans up after. */
  withEvents(fn: (events: Events, t: { namespace: string; topic: string }) => Promise<void>): Promise<void>
}

/** Builds the context from the implementation's factory and cleanup. */
export function suiteContext(
  create: () => Promise<Events> | Events,
  cleanup: ((events: Events) => Promise<void>) | undefined,
): SuiteContext {
  return {
    async withEvents(fn) {
      const events = await create()
      const id = randomUUID().slice(0, 8)
      try {
        await fn(events, { namespace: `t-${id}`, topic: `orders-${id}.created` })
      } finally {
        await events.close()
        await cleanup?.(events)
      }
    },
  }
}

/**
 * Reads a consumer step by step. A wait that times out keeps its pending `next()` for the
 * following call, so checking that nothing arrives never swallows an event.
 */
export class Reader<T = unknown> {
  readonly consumer: EventConsumer<T>
  readonly #iterator: AsyncIterator<ReceivedEvent<T>>
  #pending: Promise<IteratorResult<ReceivedEvent<T>>> | undefined

  constructor(consumer: EventConsumer<T>) {
    this.consumer = consumer
    this.#iterator = consumer[Symbol.asyncIterator]()
  }

  /** The next event, failing the test when none comes within `ms` or the consumer ended. */
  async next(ms = 10_000): Promise<ReceivedEvent<T>> {
    const result = await this.#await(ms)
    if (result === 'timeout') assert.fail(`no event within ${ms} ms`)
    assert.equal(result.done, false, 'the consumer ended instead of delivering an event')
    return result.value as ReceivedEvent<T>
  }

  /** `n` events in arrival order. */
  async take(n: number, ms = 10_000): Promise<ReceivedEvent<T>[]> {
    const out: ReceivedEvent<T>[] = []
    const until = Date.now() + ms
    while (out.length < n) out.push(await this.next(Math.max(1, until - Date.now())))
    return out
  }

  /** Asserts that no event arrives within `ms`. */
  async quiet(ms: number): Promise<void> {
    const result = await this.#await(ms)
    if (result !== 'timeout') {
      assert.fail(
        result.done ? 'the consumer ended' : `unexpected event ${JSON.stringify(result.value?.payload)}`,
      )
    }
  }

  /** Resolves true when the iteration ends within `ms`. */
  async ended(ms = 5000): Promise<boolean> {
    const result = await this.#await(ms)
    return result !== 'timeout' && result.done === true
  }

  async #await(ms: number): Promise<IteratorResult<ReceivedEvent<T>> | 'timeout'> {
    this.#pending ??= this.#iterator.next()
    const pending = this.#pending
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms)
    })
    try {
      const result = await Promise.race([pending, timeout])
      if (result !== 'timeout') this.#pending = undefined
      return result
    } finally {
      clearTimeout(timer)
    }
  }
}

/** A reader on a new consumer, once the consumer is ready. */
export async function reader<T>(consumer: EventConsumer<T>): Promise<Reader<T>> {
  await consumer.ready
  return new Reader(consumer)
}

/** Asserts the promise (or function) fails with a MicroError of `code`. */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: number,
  pattern?: RegExp,
): Promise<void> {
  const check = (error: unknown) => {
    assert.ok(error instanceof MicroError, `expected a MicroError, got ${String(error)}`)
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.detail}`)
    if (pattern) assert.match(error.detail, pattern)
    return true
  }
  if (typeof action === 'function') assert.throws(action as () => unknown, check)
  else await assert.rejects(action, check)
}

/** Polls `check` until it holds, failing after `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** Publishes `n` events `{ n: i }` (i from `from`) a batch at a time; resolves with their records' sequences. */
export async function publishMany(
  events: Events,
  topic: string,
  namespace: string,
  n: number,
  from = 0,
): Promise<number[]> {
  const sequences: number[] = []
  for (let i = 0; i < n; i += 100) {
    const batch = []
    for (let j = i; j < Math.min(n, i + 100); j++)
      batch.push(events.publish(topic, { n: from + j }, { namespace }))
    for (const record of await Promise.all(batch)) sequences.push(record.sequence)
  }
  return sequences
}

/** The `n` of `{ n }` payloads. */
export function numbers(received: ReceivedEvent[]): number[] {
  return received.map((e) => (e.payload as { n: number }).n)
}

export { sleep }
