import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { MemoryBroker } from '../broker/memory.js'
import { ConfigDocument } from '../config/store-document.js'
import { storeKV } from '../config/store-kv.js'
import type { MicroError } from '../errors/errors.js'
import type { HealthApi } from '../features/health/api.js'
import type { MetricsApi } from '../features/metrics/api.js'
import { createLogger } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { Registry, ServiceRecord } from '../registry/registry.js'
import type { Context } from '../server/context.js'
import { MemoryStore } from '../store/memory.js'
import { uuid } from '../util/ids.js'
import type { ServiceOptions } from './options.js'
import { createService, type Service } from './service.js'

const quiet = createLogger({ level: 'silent' })
const started: Service[] = []
after(async () => {
  await Promise.allSettled(started.map((s) => s.stop()))
})

/** A service on a registry of its own, with memory blocks, not yet started. */
function make(options: Partial<ServiceOptions> = {}): { service: Service; registry: Registry } {
  const registry = options.registry ?? new MemoryRegistry()
  const service = createService({
    name: `stack-${uuid().slice(0, 8)}`,
    registry,
    logger: quiet,
    handleSignals: false,
    broker: new MemoryBroker(),
    store: new MemoryStore(),
    env: {},
    ...options,
  })
  started.push(service)
  return { service, registry }
}

/** The service's record once `ok` holds for it (registration changes are asynchronous). */
async function recordWhen(
  registry: Registry,
  name: string,
  ok: (record: ServiceRecord) => boolean,
): Promise<ServiceRecord> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const [record] = await registry.getService(name).catch(() => [])
    if (record && ok(record)) return record
    if (Date.now() > deadline) assert.fail(`the record never got there: ${JSON.stringify(record)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** `promise`, or a failure naming `what` if it has not settled in 15 s (it should take well under one). */
function soon<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within 15 s`)), 15_000)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

function url(service: Service, path: string): string {
  return `http://${service.address}${path}`
}

describe('service stack', () => {
  test('an endpoint added after start is advertised without waiting for a renewal', async () => {
    const { service, registry } = make({ registerInterval: 60_000, registerTtl: 120_000 })
    service.handle({ Ping: async () => 'pong' }, { name: 'First' })
    await service.start()
    service.handle({ Late: async () => 'late' }, { name: 'Second' })
    const record = await recordWhen(registry, service.name, (r) => r.endpoints.length === 2)
    assert.deepEqual(
      record.endpoints.map((e) => e.name),
      ['First.Ping', 'Second.Late'],
    )
    await service.stop()
  })

  test('a subscription added after start is advertised once subscribe resolves', async () => {
    const { service, registry } = make({ registerInterval: 60_000, registerTtl: 120_000 })
    await service.start()
    await service.subscribe('orders.created', async () => {})
    const [record] = await registry.getService(service.name)
    assert.deepEqual(
      record?.endpoints.map((e) => [e.name, e.metadata.subscriber]),
      [['orders.created', 'true']],
    )
    await service.stop()
  })

  test('subscribe after start rejects when the broker refuses; nothing is advertised; the service serves on', async () => {
    const broker = new MemoryBroker()
    const { service, registry } = make({ broker, registerInterval: 60_000, registerTtl: 120_000 })
    service.handle({ Ping: async () => 'pong' }, { name: 'S' })
    await service.start()
    await assert.rejects(
      service.subscribe('orders.*', async () => {}),
      (e: MicroError) => e.code === 400 && /bad topic/.test(e.detail),
    )
    await broker.close()
    await assert.rejects(
      service.subscribe('orders.paid', async () => {}),
      (e: MicroError) => e.code === 503,
    )
    await service.subscribe('orders.shipped', async () => {}).catch(() => {})
    const [record] = await registry.getService(service.name)
    assert.deepEqual(
      record?.endpoints.map((e) => e.name),
      ['S.Ping'],
    )
    assert.equal(await service.client.call(service.name, 'S.Ping', {}), 'pong')
    await service.stop()
  })

  test('GET /health, /health/live and /health/ready answer on the service port: 200, or 503 while a check fails', async () => {
    const { service } = make({ features: { health: true } })
    await service.start()
    const health = service.features.health as HealthApi
    for (const path of ['/health', '/health/live', '/health/ready']) {
      const res = await fetch(url(service, path))
      assert.equal(res.status, 200, path)
      assert.equal(((await res.json()) as { status: string }).status, 'ok')
    }
    health.addCheck('db', () => {
      throw new Error('db is down')
    })
    const ready = await fetch(url(service, '/health/ready'))
    assert.equal(ready.status, 503)
    assert.deepEqual(await ready.json(), { status: 'unavailable', checks: { db: 'db is down' } })
    assert.equal((await fetch(url(service, '/health'))).status, 503)
    assert.equal((await fetch(url(service, '/health/live'))).status, 200)
    // Other GETs still get the RPC side's answer, and calls still work.
    assert.equal((await fetch(url(service, '/other'))).status, 405)
    await service.stop()
  })

  test('a plain service (no features) answers the probes too', async () => {
    const { service } = make()
    await service.start()
    assert.equal((await fetch(url(service, '/health/ready'))).status, 200)
    const head = await fetch(url(service, '/health/live'), { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
    await service.stop()
  })

  test('features: metrics on a port of its own, advertised as node metadata; tracing carries traceparent', async () => {
    const { service, registry } = make({ features: { metrics: { port: 0 }, tracing: true } })
    service.handle(
      { Echo: async (_req: unknown, ctx: Context) => ({ traceparent: ctx.metadata.traceparent ?? null }) },
      { name: 'T' },
    )
    await service.start()
    const metrics = service.features.metrics as MetricsApi
    const [record] = await registry.getService(service.name)
    const advertised = record?.nodes[0]?.metadata.metrics
    assert.equal(advertised, metrics.address)
    assert.match(String(advertised), /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const reply = await service.client.call<{ traceparent: string | null }>(service.name, 'T.Echo', {})
    assert.match(String(reply.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    const text = await (await fetch(String(advertised))).text()
    assert.match(text, /micro_requests_total\{[^}]*endpoint="T\.Echo"/)
    await service.stop()
  })

  test('features: a wrong setting or an unknown feature fails start with the key', async () => {
    const { service } = make({ features: { metrics: { port: -1 } } })
    await assert.rejects(service.start(), (e: MicroError) => /features\.metrics\.port/.test(e.detail))
    const unknown = make({ features: { nope: true } }).service
    await assert.rejects(unknown.start(), /no feature nope/)
    const malformed = make({ features: { metrics: 'yes' as never } }).service
    await assert.rejects(malformed.start(), /features\.metrics must be true, false or a table/)
    const logging = make({ features: { logging: true } }).service
    await assert.rejects(logging.start(), /pass a logger/)
  })

  test('storeTable puts records in the service table by default; a call may name another', async () => {
    const raw = new MemoryStore()
    const { service } = make({ store: raw, storeTable: 'orders', namespace: 'shop' })
    await service.store.write('o1', { n: 1 })
    await service.store.write('shared', 1, { table: 'micro' })
    assert.deepEqual(await service.store.tables(), ['micro', 'orders'])
    assert.deepEqual((await raw.read('o1', { namespace: 'shop', table: 'orders' })).value, { n: 1 })
    await service.stop()
  })

  test("the namespace's store document is a config source, watched: a change reaches config.watch", async () => {
    const raw = new MemoryStore()
    const document = new ConfigDocument(storeKV(raw), { namespace: 'team' })
    await document.set('greeting', 'hello')
    const { service } = make({ store: raw, namespace: 'team' })
    await service.start()
    assert.equal(service.config.get('greeting').string(), 'hello')
    const changes = service.config.watch('greeting')
    await document.set('greeting', 'bonjour')
    assert.equal((await soon(changes.next(), 'the watch')).value?.string(), 'bonjour')
    await service.stop()
  })
})
