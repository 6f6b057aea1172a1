import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Client } from '../client/client.js'
import type { HealthApi } from '../features/health/api.js'
import type { MetricsApi } from '../features/metrics/api.js'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { Registry, ServiceRecord } from '../registry/registry.js'
import { testService } from '../testing/harness.js'
import { uuid } from '../util/ids.js'
import { defineService } from './define.js'
import type { Deps } from './deps.js'
import { prepare } from './prepare.js'
import { ServiceRuntime } from './runtime.js'

class Ping {
  async Ping() {
    return 'pong'
  }
}

/** The service's record once `ok` holds for it (registration changes are asynchronous). */
async function recordWhen(
  registry: Registry,
  name: string,
  namespace: string,
  ok: (record: ServiceRecord) => boolean,
): Promise<ServiceRecord> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const [record] = await registry.getService(name, { namespace }).catch(() => [])
    if (record && ok(record)) return record
    if (Date.now() > deadline) assert.fail(`the record never got there: ${JSON.stringify(record)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('one service stack under service.toml', () => {
  test('deps carry broker, events, store, sync, config and client, made from MICRO_* by the service stack', async () => {
    let seen: Deps | undefined
    const definition = defineService({
      env: { GREETING: 'string' },
      rpc: () => new Ping(),
      onStart: (deps) => {
        seen = deps
      },
    })
    const envSource = {
      MICRO_BROKER: 'memory',
      MICRO_EVENTS: 'memory',
      MICRO_STORE: 'memory',
      MICRO_SYNC: 'memory',
      // One prefix rule: the per-service override of GREETING is also config path `greeting`.
      STACKED__GREETING: 'hi',
      STACKED_GREETING: 'the other rule, read by nobody',
    }
    const prepared = await prepare({
      raw: { name: 'stacked', version: '1.0.0', types: ['rpc'] },
      source: 'service.toml',
      definition,
      envSource,
    })
    const registry = new MemoryRegistry()
    const runtime = new ServiceRuntime({
      prepared,
      registry,
      ownsRegistry: true,
      namespace: `stack-${uuid().slice(0, 8)}`,
      logger: createLogger({ level: 'silent' }),
      portOverride: 0,
      envSource,
    })
    await runtime.start()
    try {
      const deps = seen as Deps
      assert.equal(deps.broker.name, 'memory')
      assert.equal(deps.events.name, 'memory')
      assert.equal(deps.store.name, 'memory')
      assert.ok(deps.sync, 'deps.sync')
      assert.ok(deps.client instanceof Client, 'deps.client')
      assert.equal(deps.env.GREETING, 'hi')
      assert.equal(deps.config.get('greeting').string(), 'hi')
      // A service.toml service writes its own table (its name), not micro/micro.
      await deps.store.write('k', 1)
      assert.deepEqual(await deps.store.tables(), ['stacked'])
      await using lock = await deps.sync.lock('job')
      assert.ok(lock)
      await deps.events.publish('audit', { n: 1 })
      assert.equal((await deps.events.read('audit')).length, 1)
    } finally {
      await runtime.stop()
    }
  })

  test('an http-only service registers its address and routes', async () => {
    const registry = new MemoryRegistry()
    const namespace = `stack-${uuid().slice(0, 8)}`
    const app = {
      routes: [
        { method: 'ALL', path: '/*' },
        { method: 'GET', path: '/orders/:id' },
        { method: 'POST', path: '/orders' },
      ],
      fetch: () => new Response('ok'),
    }
    const t = await testService(defineService({ http: () => app }), {
      registry,
      namespace,
      config: {
        name: 'shop-web',
        version: '1.0.0',
        types: ['http'],
        runtime: { http: { base_path: '/shop' } },
      },
    })
    try {
      const [record] = await registry.getService('shop-web', { namespace })
      const node = record?.nodes[0]
      assert.equal(`http://${node?.address}`, t.address('http'))
      assert.equal(node?.metadata.protocol, 'http')
      assert.equal(node?.metadata.http, `${t.address('http')}/shop`)
      assert.deepEqual(
        record?.endpoints.map((e) => e.name),
        ['GET /shop/orders/:id', 'POST /shop/orders'],
      )
    } finally {
      await t.stop()
    }
    await assert.rejects(registry.getService('shop-web', { namespace }), { code: 404 })
  })

  test('rpc and http in one process: one node, the rpc address, the http server in its metadata', async () => {
    const registry = new MemoryRegistry()
    const namespace = `stack-${uuid().slice(0, 8)}`
    const t = await testService(
      defineService({ rpc: () => new Ping(), http: () => () => new Response('ok') }),
      { registry, namespace, config: { name: 'both', version: '1.0.0', types: ['rpc', 'http'] } },
    )
    try {
      const record = await recordWhen(
        registry,
        'both',
        namespace,
        (r) => r.nodes[0]?.metadata.http !== undefined,
      )
      assert.equal(record.nodes.length, 1)
      assert.equal(record.nodes[0]?.address, t.address('rpc'))
      assert.equal(record.nodes[0]?.metadata.http, t.address('http'))
      assert.deepEqual(
        record.endpoints.map((e) => e.name),
        ['Ping.Ping'],
      )
    } finally {
      await t.stop()
    }
  })

  test('the rpc kind answers GET /health, /health/live and /health/ready on its port: 200, then 503 while a check fails', async () => {
    const t = await testService(defineService({ rpc: () => new Ping() }), {
      config: { name: 'probed', version: '1.0.0', types: ['rpc'], features: { health: {} } },
    })
    try {
      const base = `http://${t.address('rpc')}`
      for (const path of ['/health', '/health/live', '/health/ready']) {
        assert.equal((await fetch(`${base}${path}`)).status, 200, path)
      }
      ;(t.features.health as HealthApi).addCheck('db', () => {
        throw new Error('no db')
      })
      const ready = await fetch(`${base}/health/ready`)
      assert.equal(ready.status, 503)
      assert.deepEqual(await ready.json(), { status: 'unavailable', checks: { db: 'no db' } })
      assert.equal((await fetch(`${base}/health/live`)).status, 200)
      assert.equal(await t.call('Ping.Ping'), 'pong')
    } finally {
      await t.stop()
    }
  })

  test('the metrics address is advertised in the node metadata', async () => {
    const registry = new MemoryRegistry()
    const namespace = `stack-${uuid().slice(0, 8)}`
    const t = await testService(defineService({ rpc: () => new Ping() }), {
      registry,
      namespace,
      config: { name: 'measured', version: '1.0.0', types: ['rpc'], features: { metrics: {} } },
    })
    try {
      const address = (t.features.metrics as MetricsApi).address
      assert.match(String(address), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      const record = await recordWhen(
        registry,
        'measured',
        namespace,
        (r) => r.nodes[0]?.metadata.metrics !== undefined,
      )
      assert.equal(record.nodes[0]?.metadata.metrics, address)
    } finally {
      await t.stop()
    }
  })
})
