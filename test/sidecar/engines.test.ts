import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { createLogger } from '../../src/logger/logger.js'
import { createService, type Service } from '../../src/service/service.js'
import { createSidecar, type Sidecar } from '../../src/sidecar/sidecar.js'
import { removeNatsStreams } from '../../src/testing/cleanup.js'
import { httpCall } from '../../src/testing/http-call.js'
import { testServer } from '../../src/testing/servers.js'
import { FakeApp } from '../support/sidecar.js'
import { until } from '../support/until.js'

const nats = testServer('nats')
const redis = testServer('redis')

/**
 * The same sidecar on NATS (registry, transport, broker, events) and Redis (store, sync) by
 * configuration alone, two instances of one app: calls reach the app through either, a
 * queue-group subscription delivers each message once, the stream is shared, and two
 * writers racing with one ETag through different sidecars never both win.
 */
describe('two sidecars of one app on NATS and Redis, by MICRO_* variables only', {
  skip: nats.skip || redis.skip,
}, () => {
  const namespace = `sc-eng-${randomUUID().slice(0, 8)}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MICRO_NAMESPACE: namespace,
    MICRO_REGISTRY: 'nats',
    MICRO_REGISTRY_ADDRESS: nats.address,
    MICRO_TRANSPORT: 'nats',
    MICRO_TRANSPORT_ADDRESS: nats.address,
    MICRO_BROKER: 'nats',
    MICRO_BROKER_ADDRESS: nats.address,
    MICRO_EVENTS: 'nats',
    MICRO_EVENTS_ADDRESS: nats.address,
    MICRO_STORE: 'redis',
    MICRO_STORE_ADDRESS: redis.address,
    MICRO_SYNC: 'redis',
    MICRO_SYNC_ADDRESS: redis.address,
  }
  const logger = createLogger({ level: 'silent' })
  const app = new FakeApp()
  const sidecars: Sidecar[] = []
  const apis: string[] = []
  let caller: Service

  before(async () => {
    await app.listen()
    app.endpoints = ['Orders.Get']
    app.subscriptions = [{ topic: 'orders.paid', route: '/paid', queue: 'py-orders' }]
    app.routes.set('/Orders.Get', () => ({ body: { ok: true } }))
    app.routes.set('/paid', () => ({ body: { status: 'SUCCESS' } }))
    for (let i = 0; i < 2; i++) {
      const sidecar = createSidecar({
        name: 'py-orders',
        appPort: app.port,
        address: '127.0.0.1:0',
        service: { env, logger },
      })
      apis.push(`http://${await sidecar.start()}`)
      sidecars.push(sidecar)
    }
    await Promise.all(sidecars.map((s) => s.ready))
    caller = createService({ name: 'ts-caller', env, logger, handleSignals: false })
  })
  after(async () => {
    await caller?.stop()
    for (const key of ['race']) await httpCall(apis[0] as string, 'DELETE', `/v1/state/${key}`, undefined)
    for (const sidecar of sidecars) await sidecar.stop()
    await app.close()
    await removeNatsStreams(nats.address as string, `MICRO_EVENTS_${namespace}`)
  })

  test('both register over NATS; calls reach the app through them', async () => {
    const records = await caller.registry.getService('py-orders', { namespace })
    assert.equal(records.flatMap((r) => r.nodes).length, 2)
    assert.equal(records[0]?.nodes[0]?.metadata.transport, 'nats')
    for (let i = 0; i < 4; i++)
      assert.deepEqual(await caller.client.call('py-orders', 'Orders.Get', {}), { ok: true })
  })

  test('a queue-group subscription: each message reaches the app once, through one sidecar', async () => {
    for (let i = 0; i < 10; i++) await caller.client.publish('orders.paid', { n: i })
    await until(() => app.hitsOn('/paid').length >= 10, 'ten deliveries')
    const seen = app.hitsOn('/paid').map((h) => JSON.parse(h.body.toString()).n)
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    )
  })

  test('the durable stream on JetStream is shared: written through one, read through the other', async () => {
    const written = await httpCall(apis[0] as string, 'POST', '/v1/events/orders', { id: 1 })
    assert.equal(written.status, 201)
    const read = await httpCall(apis[1] as string, 'GET', '/v1/events/orders', undefined)
    assert.deepEqual(
      (read.body as { data: unknown }[]).map((e) => e.data),
      [{ id: 1 }],
    )
  })

  test('state on Redis: two writers with one ETag through different sidecars, exactly one wins', async () => {
    const [a, b] = apis as [string, string]
    await httpCall(a, 'POST', '/v1/state/race', { n: 0 })
    for (let round = 0; round < 5; round++) {
      const etag = (await httpCall(b, 'GET', '/v1/state/race', undefined)).headers.get('etag') as string
      const results = await Promise.all([
        httpCall(a, 'POST', '/v1/state/race', { by: 'a', round }, { 'if-match': etag }),
        httpCall(b, 'POST', '/v1/state/race', { by: 'b', round }, { 'if-match': etag }),
      ])
      assert.deepEqual(results.map((r) => r.status).sort(), [204, 409], `round ${round}`)
    }
    const final = await httpCall(b, 'GET', '/v1/state/race', undefined)
    assert.equal(final.headers.get('etag'), '6')
  })
})
