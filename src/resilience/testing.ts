import { Client } from '../client/client.js'
import { newError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { EndpointRecord, NodeRecord } from '../registry/registry.js'
import { createSelector } from '../selector/from-name.js'
import type { Context } from '../server/context.js'
import { createService, type Service } from '../service/service.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { MicroTransport } from '../transport/micro-transport.js'
import type { OutboundCall, Reply, Transport } from '../transport/transport.js'
import type { ResilienceSpec } from './policy.js'
import type { Resilience } from './resilience.js'

/** What one node of a test cluster saw, and how it behaves. */
export interface TestNode {
  readonly name: string
  readonly service: Service
  /** The proxy clients reach the node through (faults are injected here). */
  readonly proxy: TcpProxy
  readonly record: NodeRecord
  /** Calls that reached the handler, by method. */
  readonly arrivals: Record<string, number>
  /** Contexts of calls that were still running when their caller gave up, canceled ones included. */
  readonly contexts: Context[]
  /** Make Flaky fail with this code (0: succeed). */
  failWith: number
  /** Wait answers only when its caller gives up (default true); false: at once. */
  stuck: boolean
  /** Resolve every Block call waiting now. */
  release(): void
}

/** Endpoints of the test service; `Get` and `Wait` are idempotent. */
const ENDPOINTS: EndpointRecord[] = [
  { name: 'Node.Get', metadata: { idempotent: 'true' } },
  { name: 'Node.Wait', metadata: { idempotent: 'true' } },
  { name: 'Node.Put', metadata: {} },
  { name: 'Node.Flaky', metadata: {} },
  { name: 'Node.Block', metadata: {} },
]

/**
 * `count` nodes of service `target`, each a real service (micro transport, TCP) behind a
 * TcpProxy, registered in a registry of the test's own with the proxies' addresses. Inbound
 * policies come from `serverResilience`.
 */
export async function startCluster(
  count: number,
  serverResilience?: ResilienceSpec,
): Promise<{ nodes: TestNode[]; registry: MemoryRegistry; stop: () => Promise<void> }> {
  const nodes: TestNode[] = []
  for (let i = 0; i < count; i++) {
    const name = `n${i}`
    const arrivals: Record<string, number> = {}
    const contexts: Context[] = []
    let waiting: (() => void)[] = []
    const node = { failWith: 0, stuck: true }
    const seen = (method: string, ctx: Context) => {
      arrivals[method] = (arrivals[method] ?? 0) + 1
      contexts.push(ctx)
    }
    const service = createService({
      name: 'target',
      registry: new MemoryRegistry(),
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
      ...(serverResilience ? { resilience: serverResilience } : {}),
    })
    service.handle(
      {
        Get: (_req: unknown, ctx: Context) => {
          seen('Get', ctx)
          return { node: name }
        },
        Put: (_req: unknown, ctx: Context) => {
          seen('Put', ctx)
          return { node: name }
        },
        Flaky: (_req: unknown, ctx: Context) => {
          seen('Flaky', ctx)
          if (node.failWith) throw newError('target', `${name} is failing`, node.failWith)
          return { node: name }
        },
        Block: (_req: unknown, ctx: Context) => {
          seen('Block', ctx)
          return new Promise((resolve) => waiting.push(() => resolve({ node: name })))
        },
        Wait: async (_req: unknown, ctx: Context) => {
          seen('Wait', ctx)
          if (!node.stuck) return { node: name }
          // A stuck node: answers only when the caller gives up on it (or after 10 s).
          await new Promise((resolve) => {
            ctx.signal.addEventListener('abort', resolve, { once: true })
            setTimeout(resolve, 10_000).unref()
          })
          return { node: name }
        },
      },
      { name: 'Node' },
    )
    await service.start()
    const proxy = await TcpProxy.start(service.address as string)
    nodes.push(
      Object.assign(node, {
        name,
        service,
        proxy,
        record: { id: name, address: proxy.address, metadata: { transport: 'micro' } },
        arrivals,
        contexts,
        release: () => {
          const all = waiting
          waiting = []
          for (const resolve of all) resolve()
        },
      }),
    )
  }
  const registry = new MemoryRegistry()
  await registry.register({
    name: 'target',
    version: '1',
    metadata: {},
    endpoints: ENDPOINTS,
    nodes: nodes.map((n) => n.record),
  })
  return {
    nodes,
    registry,
    stop: async () => {
      for (const n of nodes) {
        n.release()
        await n.proxy.close().catch(() => {})
        await n.service.stop()
      }
      await registry.close()
    },
  }
}

/** A transport that counts attempts per address, around the micro transport. */
export class CountingTransport implements Transport {
  readonly name = 'micro'
  readonly attempts = new Map<string, number>()
  readonly #inner = new MicroTransport({ dialTimeout: 1000 })
  listen: Transport['listen'] = (...args) => this.#inner.listen(...args)
  stream: Transport['stream'] = (...args) => this.#inner.stream(...args)
  call(address: string, call: OutboundCall): Promise<Reply> {
    this.attempts.set(address, (this.attempts.get(address) ?? 0) + 1)
    return this.#inner.call(address, call)
  }
  close(): Promise<void> {
    return this.#inner.close()
  }
}

/** A remote-only client of the cluster's registry with these policies. */
export function clusterClient(
  registry: MemoryRegistry,
  resilience: Resilience | ResilienceSpec | undefined,
  options: { caller?: string; selector?: string; transport?: Transport } = {},
): Client {
  return new Client({
    lookup: new RegistryCache(registry),
    transport: options.transport ?? new MicroTransport({ dialTimeout: 1000 }),
    selector: createSelector(options.selector ?? 'round-robin'),
    local: false,
    caller: options.caller ?? 'tester',
    requestTimeout: 10_000,
    ...(resilience ? { resilience } : {}),
  })
}

/** Run `calls` calls, `concurrency` at a time; settle each into ok values and errors. */
export async function load<T>(
  calls: number,
  concurrency: number,
  call: (i: number) => Promise<T>,
): Promise<{ ok: T[]; errors: unknown[] }> {
  const ok: T[] = []
  const errors: unknown[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) {
        const i = next++
        try {
          ok.push(await call(i))
        } catch (error) {
          errors.push(error)
        }
      }
    }),
  )
  return { ok, errors }
}

/** Wait (bounded) until `check` holds. */
export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}
