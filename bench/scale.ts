/**
 * Phase 10, part 1: how registry lookups and watch propagation grow with the number of
 * services (each of `nodes` nodes), for the memory registry (registrar, lookups and watchers
 * in this process) and the NATS registry (a registrar fixture, lookups and watchers here).
 *
 * Per size: `register` (all services, ms), uncached `getService` and `listServices` straight
 * to the registry, cached `RegistryCache.getService` with every service cached (so one watch
 * per service is running), and watch propagation: node 0 of a random service changes, stamped
 * with the monotonic clock, until a watcher here sees it. The cache is checked to hold every
 * change at the end (`stale` counts the services it got wrong).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  MemoryRegistry,
  NatsRegistry,
  type Registry,
  RegistryCache,
  type WatchEvent,
} from 'micro-ts/registry'
import { spawnFixture } from './children.js'
import { monotonicMs, scaleName, scaleService } from './fixtures/scale-common.js'
import { type LatencySummary, summarize } from './stats.js'

export type ScaleRegistry = 'memory' | 'nats'

/** Settings of the registry part of the scale phase. */
export interface ScaleConfig {
  services: number[]
  nodes: number
  /** Uncached lookups per size (each a NATS round of queries: ~50 ms). */
  lookups: number
  /** Cached lookups per size. */
  cachedLookups: number
  /** Watched changes per size, and the ms between them. */
  updates: number
  updateEveryMs: number
}

/** One registry at one size. */
export interface ScaleRow {
  registry: ScaleRegistry
  services: number
  nodes: number
  registerMs: number
  lookup: LatencySummary
  list: LatencySummary
  cached: LatencySummary
  watch: LatencySummary
  /** Services whose cached record missed a change the watch delivered. */
  stale: number
  /** Changes made whose event never arrived. */
  missed: number
}

const registrarScript = fileURLToPath(new URL('./fixtures/scale-registrar.js', import.meta.url))

/** Measure one registry at one size. */
export async function measureScale(
  kind: ScaleRegistry,
  services: number,
  c: ScaleConfig,
  natsAddress: string,
): Promise<ScaleRow> {
  const namespace = `bench-scale-${process.pid}-${Date.now().toString(36)}`
  if (kind === 'memory') {
    const registry = new MemoryRegistry()
    try {
      const started = performance.now()
      for (let i = 0; i < services; i++)
        await registry.register(scaleService(i, c.nodes), { namespace, ttl: 120_000 })
      const registerMs = performance.now() - started
      return await measureLookups(kind, registry, namespace, services, registerMs, c, async (arrived) => {
        for (let u = 0; u < c.updates; u++) {
          const i = Math.floor(Math.random() * services)
          await registry.register(scaleService(i, c.nodes, monotonicMs()), { namespace, ttl: 120_000 })
          await arrived(u + 1)
        }
      })
    } finally {
      await registry.close()
    }
  }
  const registrar = spawnFixture(registrarScript, {
    env: {
      BENCH_NAMESPACE: namespace,
      BENCH_SERVICES: String(services),
      BENCH_NODES: String(c.nodes),
      BENCH_UPDATES: String(c.updates),
      BENCH_UPDATE_EVERY_MS: String(c.updateEveryMs),
      MICRO_REGISTRY_ADDRESS: natsAddress,
    },
  })
  const registry = new NatsRegistry({ address: natsAddress })
  try {
    const ready = await registrar.waitFor('ready', 60_000)
    await registry.ready()
    return await measureLookups(
      kind,
      registry,
      namespace,
      services,
      ready.data.registerMs as number,
      c,
      async () => {
        registrar.process.kill('SIGUSR2')
        await registrar.waitFor('updated', 60_000)
      },
    )
  } finally {
    await registrar.stop()
    await registry.close()
  }
}

/**
 * The lookup and watch measurements, once the services are registered. `changes` makes
 * `c.updates` stamped changes; it may wait with `arrived(n)` until the watcher has seen n.
 */
async function measureLookups(
  kind: ScaleRegistry,
  registry: Registry,
  namespace: string,
  services: number,
  registerMs: number,
  c: ScaleConfig,
  changes: (arrived: (count: number) => Promise<void>) => Promise<void>,
): Promise<ScaleRow> {
  const random = () => scaleName(Math.floor(Math.random() * services))
  const lookups = new Float64Array(c.lookups)
  for (let k = 0; k < c.lookups; k++) {
    const t0 = performance.now()
    await registry.getService(random(), { namespace })
    lookups[k] = performance.now() - t0
  }
  const lists = new Float64Array(Math.max(5, c.lookups / 5))
  for (let k = 0; k < lists.length; k++) {
    const t0 = performance.now()
    const all = await registry.listServices({ namespace })
    lists[k] = performance.now() - t0
    if (all.length !== services) throw new Error(`listServices found ${all.length} of ${services} services`)
  }

  const cache = new RegistryCache(registry)
  const watcher = registry.watch({ namespace })
  try {
    // Every service cached, so every one has its watch running while we measure.
    await pool(services, 32, (i) => cache.getService(scaleName(i), namespace))
    const cached = new Float64Array(c.cachedLookups)
    for (let k = 0; k < c.cachedLookups; k++) {
      const name = random()
      const t0 = performance.now()
      await cache.getService(name, namespace)
      cached[k] = performance.now() - t0
    }

    const watched = new Float64Array(c.updates)
    let seen = 0
    const latest = new Map<string, string>()
    let onEvent: (() => void) | undefined
    const consumer = (async () => {
      for await (const event of watcher as AsyncIterable<WatchEvent>) {
        const stamp = Number(event.service.nodes[0]?.metadata.stamp ?? 0)
        if (event.action !== 'update' || stamp === 0 || seen >= watched.length) continue
        watched[seen++] = monotonicMs() - stamp
        latest.set(event.service.name, String(stamp))
        onEvent?.()
      }
    })()
    await sleep(100) // the NATS watch subscription is in place before the first change
    await changes(
      (count) =>
        new Promise<void>((resolve) => {
          onEvent = () => {
            if (seen >= count) resolve()
          }
          onEvent()
        }),
    )
    // Events still on their way when the registrar says it is done.
    for (let waited = 0; seen < c.updates && waited < 2000; waited += 20) await sleep(20)
    await sleep(50) // the cache's own watchers got the same events in the same turns
    let stale = 0
    for (const [name, stamp] of latest) {
      const record = cache.peek(name, namespace)?.[0]
      const node = record?.nodes.find((n) => n.id === `${name}-node-0`)
      if (node?.metadata.stamp !== stamp) stale++
    }
    watcher.stop()
    await consumer
    return {
      registry: kind,
      services,
      nodes: c.nodes,
      registerMs,
      lookup: summarize(lookups, lookups.length),
      list: summarize(lists, lists.length),
      cached: summarize(cached, cached.length),
      watch: summarize(watched, seen),
      stale,
      missed: c.updates - seen,
    }
  } finally {
    watcher.stop()
    await cache.close()
  }
}

/** Run `task(0..count-1)` with at most `width` in flight. */
async function pool(count: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker))
}
