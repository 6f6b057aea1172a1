import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MicroError } from '../errors/errors.js'
import type { NodeRecord, Registry, ServiceRecord, WatchEvent, Watcher } from './registry.js'

/** What every conformance test gets: a fresh registry and a namespace no other run uses. */
export interface SuiteContext {
  /** Runs `fn` with a new registry and a random namespace, closing the registry afterwards. */
  withRegistry(fn: (registry: Registry, namespace: string) => Promise<void>): Promise<void>
  /** Waits long enough for an eventually-consistent registry to catch up. */
  settle(): Promise<void>
  settleMs: number
}

/** Builds the context from the factory the implementation passed in. */
export function suiteContext(create: () => Promise<Registry> | Registry, settleMs: number): SuiteContext {
  return {
    settleMs,
    settle: () => (settleMs > 0 ? sleep(settleMs) : Promise.resolve()),
    async withRegistry(fn) {
      const registry = await create()
      try {
        await fn(registry, `t-${randomUUID()}`)
      } finally {
        await registry.close()
      }
    },
  }
}

/** A node with a unique id and some metadata. */
export function node(id: string, port = 9000): NodeRecord {
  return { id, address: `127.0.0.1:${port}`, metadata: { transport: 'micro', zone: `z-${id}` } }
}

/**
 * A service record exercising every field: metadata, endpoints with request/response JSON
 * schemas and a streaming endpoint, and the given nodes.
 */
export function serviceRecord(name: string, version: string, nodes: NodeRecord[]): ServiceRecord {
  return {
    name,
    version,
    metadata: { owner: 'conformance', version },
    endpoints: [
      {
        name: 'Greeter.Hello',
        metadata: { description: 'says hello' },
        request: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1 },
            tags: { type: 'array', items: { type: 'string' } },
          },
          required: ['name'],
        },
        response: { type: 'object', properties: { msg: { type: 'string' } } },
      },
      { name: 'Greeter.Stream', metadata: { stream: 'true' }, request: { type: 'object' } },
    ],
    nodes,
  }
}

/** A unique service name, so tests sharing a network (mDNS) never see each other. */
export function uniqueName(prefix = 'svc'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/** Records sorted by version, nodes sorted by id: registries promise no order. */
export function normalise(records: ServiceRecord[]): ServiceRecord[] {
  return [...records]
    .sort((a, b) => a.version.localeCompare(b.version))
    .map((r) => ({ ...r, nodes: [...r.nodes].sort((a, b) => a.id.localeCompare(b.id)) }))
}

/** Ids of the nodes of `records`, sorted. */
export function nodeIds(records: ServiceRecord[]): string[] {
  return records.flatMap((r) => r.nodes.map((n) => n.id)).sort()
}

/** Asserts the promise rejects with a MicroError of code 404. */
export async function expectNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof MicroError, `expected a MicroError, got ${String(error)}`)
    assert.equal(error.code, 404)
    return true
  })
}

/** Resolves with the promise, or rejects when it takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The watcher's next event, failing the test when none comes within `ms` or the watch ended. */
export async function nextEvent(iterator: AsyncIterator<WatchEvent>, ms: number): Promise<WatchEvent> {
  const result = await withTimeout(iterator.next(), ms, 'watch event')
  assert.equal(result.done, false, 'the watch ended instead of delivering an event')
  return result.value as WatchEvent
}

/** The iterator of a watcher, for step-by-step reading. */
export function iterate(watcher: Watcher): AsyncIterator<WatchEvent> {
  return watcher[Symbol.asyncIterator]()
}

/** Polls `check` until it holds or `ms` pass (then fails with `what`). */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export { sleep }
