import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { Client } from '../src/client/client.js'
import { MicroError } from '../src/errors/errors.js'
import { RegistryCache } from '../src/registry/cache.js'
import { createRegistry } from '../src/registry/from-env.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import type { Registry, ServiceRecord } from '../src/registry/registry.js'
import { LeastInFlightSelector } from '../src/selector/least-in-flight.js'
import { testServer } from '../src/testing/servers.js'
import { MicroTransport } from '../src/transport/micro-transport.js'
import { NatsTransport } from '../src/transport/nats-transport.js'
import type { Transport } from '../src/transport/transport.js'
import { isLost } from '../src/transport/transport-errors.js'
import { type Child, spawnNode } from './support/process.js'

const nats = testServer('nats')
const IN_FLIGHT = 64
const HANDLER_MS = 20
const cleanup: (() => Promise<unknown> | unknown)[] = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

/** A transport that counts calls lost after they were sent (in flight on a node that died). */
function countingLost(inner: Transport): { transport: Transport; lost: () => number } {
  let lost = 0
  const transport: Transport = {
    name: inner.name,
    listen: (address, dispatcher, options) => inner.listen(address, dispatcher, options),
    call: (address, call) =>
      inner.call(address, call).catch((error: unknown) => {
        if (isLost(error)) lost++
        throw error
      }),
    stream: (address, call) => inner.stream(address, call),
    close: () => inner.close(),
  }
  return { transport, lost: () => lost }
}

/** Three instances of one service in their own processes; resolves with them once each has registered. */
async function startInstances(
  env: Record<string, string>,
): Promise<{ children: Child[]; records: ServiceRecord[] }> {
  const children = [0, 1, 2].map(() =>
    spawnNode(['test/fixtures/failover-node.mjs'], { MICRO_LOG_LEVEL: 'warn', ...env }),
  )
  for (const child of children) cleanup.push(() => child.process.kill('SIGKILL'))
  const records = await Promise.all(
    children.map(async (child) =>
      JSON.parse((await child.waitFor(/registered (.*)\n/, 30_000))[1] as string),
    ),
  )
  return { children, records }
}

interface LoadResult {
  ok: number
  failures: unknown[]
  /** Whether every call had settled before the guard after the stop. */
  settled: boolean
}

/**
 * Keep IN_FLIGHT calls going; once `warm` have succeeded, SIGKILL `victim`, carry on until
 * `after` more succeed, then stop and wait (bounded) for the calls still in flight.
 */
async function killUnderLoad(
  call: () => Promise<unknown>,
  victim: Child,
  warm = 200,
  more = 300,
): Promise<LoadResult> {
  let ok = 0
  let stopped = false
  const failures: unknown[] = []
  let progress: () => void = () => {}
  const workers = Array.from({ length: IN_FLIGHT }, async () => {
    while (!stopped) {
      try {
        await call()
        ok++
      } catch (error) {
        failures.push(error)
      }
      progress()
    }
  })
  const reach = (count: number) =>
    new Promise<void>((resolve) => {
      progress = () => {
        if (ok >= count || failures.length > 500) resolve()
      }
    })
  await reach(warm)
  victim.process.kill('SIGKILL')
  await victim.exited
  await reach(ok + more)
  stopped = true
  let guard: NodeJS.Timeout | undefined
  // Calls left hanging on the dead node would wait for a keep-alive probe (60 s here).
  const settled = await Promise.race([
    Promise.all(workers).then(() => true),
    new Promise<boolean>((resolve) => {
      guard = setTimeout(() => resolve(false), 5000)
    }),
  ])
  clearTimeout(guard)
  return { ok, failures, settled }
}

function assertMayHaveRun(failures: unknown[], detail: RegExp): void {
  for (const e of failures) {
    assert.ok(e instanceof MicroError && e.code === 503 && isLost(e), `a failure was ${e}`)
    assert.match(e.detail, /Work\.Put may have run/)
    assert.match(e.detail, detail)
  }
}

describe('failover when an instance is killed under load (micro transport)', () => {
  async function setUp() {
    const service = `failover-${randomUUID().slice(0, 8)}`
    const { children, records } = await startInstances({
      FAILOVER_SERVICE: service,
      MICRO_REGISTRY: 'memory',
      MICRO_TRANSPORT: 'micro',
    })
    const registry = new MemoryRegistry()
    for (const record of records) await registry.register(record)
    const counted = countingLost(new MicroTransport())
    const client = new Client({
      lookup: new RegistryCache(registry),
      transport: counted.transport,
      selector: new LeastInFlightSelector(),
      local: false,
    })
    cleanup.push(() => client.close())
    return { service, children, client, lost: counted.lost }
  }

  test('calls to an idempotent endpoint in flight on the dead instance are retried: none fails', async () => {
    const { service, children, client, lost } = await setUp()
    const result = await killUnderLoad(
      () => client.call(service, 'Work.Get', { ms: HANDLER_MS }),
      children[1] as Child,
    )
    assert.ok(result.settled, 'every call settled')
    assert.deepEqual(result.failures.map(String), [])
    assert.ok(lost() > 0, 'calls were in flight on the killed instance (and were retried)')
  })

  test('calls to a non-idempotent endpoint in flight on it fail with a 503 saying they may have run', async () => {
    const { service, children, client } = await setUp()
    const result = await killUnderLoad(
      () => client.call(service, 'Work.Put', { ms: HANDLER_MS }),
      children[1] as Child,
    )
    assert.ok(result.settled, 'every call settled')
    assert.ok(result.failures.length > 0, 'calls were in flight on the killed instance')
    assertMayHaveRun(result.failures, /connection to .* (lost|closed)/)
  })
})

describe('failover when an instance is killed under load (NATS transport)', { skip: nats.skip }, () => {
  async function setUp() {
    const service = 'failover'
    const namespace = `failover-${randomUUID().slice(0, 8)}`
    const address = nats.address as string
    const { children } = await startInstances({
      FAILOVER_SERVICE: service,
      MICRO_NAMESPACE: namespace,
      MICRO_REGISTRY: 'nats',
      MICRO_REGISTRY_ADDRESS: address,
      MICRO_TRANSPORT: 'nats',
      MICRO_TRANSPORT_ADDRESS: address,
    })
    const registry: Registry = createRegistry('nats', address)
    cleanup.push(() => registry.close?.())
    // Per-call probes only after a minute: finding the dead node must not wait for them.
    const counted = countingLost(new NatsTransport({ address, keepAlive: 60_000, keepAliveTimeout: 60_000 }))
    const client = new Client({
      lookup: new RegistryCache(registry),
      transport: counted.transport,
      selector: new LeastInFlightSelector(),
      local: false,
      namespace,
    })
    cleanup.push(() => client.close())
    for (;;) {
      const records = await registry.getService(service, { namespace }).catch(() => [])
      if (records.flatMap((r) => r.nodes).length === 3) break
      await new Promise((r) => setTimeout(r, 50))
    }
    return { service, children, client, lost: counted.lost }
  }

  test('calls to an idempotent endpoint all succeed: the dead node is found without waiting for probes', async () => {
    const { service, children, client, lost } = await setUp()
    const result = await killUnderLoad(
      () => client.call(service, 'Work.Get', { ms: HANDLER_MS }),
      children[1] as Child,
    )
    assert.ok(result.settled, 'no call was left hanging on the dead node')
    assert.deepEqual(result.failures.map(String), [])
    assert.ok(lost() > 0, 'calls were in flight on the killed node (and were retried)')
  })

  test('calls to a non-idempotent endpoint fail with a 503: the node is gone', async () => {
    const { service, children, client } = await setUp()
    const result = await killUnderLoad(
      () => client.call(service, 'Work.Put', { ms: HANDLER_MS }),
      children[1] as Child,
    )
    assert.ok(result.settled, 'no call was left hanging on the dead node')
    assert.ok(result.failures.length > 0, 'calls were in flight on the killed node')
    assertMayHaveRun(result.failures, /went away while Work\.Put was in flight/)
  })
})
