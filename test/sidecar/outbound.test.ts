import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { localServices } from '../../src/client/local.js'
import { generateSecretKey, sealSecret } from '../../src/config/cipher.js'
import * as errors from '../../src/errors/index.js'
import type { Context } from '../../src/server/context.js'
import type { Service } from '../../src/service/service.js'
import type { Sidecar } from '../../src/sidecar/sidecar.js'
import { httpCall } from '../../src/testing/http-call.js'
import { type Blocks, FakeApp, memoryBlocks, startService, startSidecar } from '../support/sidecar.js'
import { until } from '../support/until.js'

class Pricing {
  async Quote(req: { item: string; quantity: number }, ctx: Context) {
    if (req.item === 'wine') throw errors.notFound('pricing', 'no price for wine')
    return { total: req.quantity * 4, caller: ctx.metadata['micro-caller'], tenant: ctx.metadata['x-tenant'] }
  }
  async Missing() {
    throw errors.notFound('pricing', 'nothing here')
  }
  async Slow(_req: unknown, ctx: Context) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
    return {}
  }
}

/** The app's side: invoke, publish, state with ETags, config and events through the sidecar's API. */
describe('sidecar outbound: the building blocks on the sidecar port', () => {
  const app = new FakeApp()
  const dir = mkdtempSync(join(tmpdir(), 'sidecar-config-'))
  const key = generateSecretKey()
  let blocks: Blocks
  let sidecar: Sidecar
  let api: string
  let pricing: Service
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    httpCall(api, 'POST', path, body, headers)

  before(async () => {
    await app.listen()
    app.endpoints = ['Orders.Get']
    blocks = memoryBlocks()
    const file = join(dir, 'config.json')
    writeFileSync(
      file,
      JSON.stringify({ db: { password: sealSecret('hunter2', Buffer.from(key, 'base64')) } }),
    )
    // A platform's policy file: a fallback for one endpoint of pricing.
    const policies = join(dir, 'resilience.json')
    writeFileSync(
      policies,
      JSON.stringify({
        policies: { fallbacks: { spare: { value: { fallback: true }, codes: [404] } } },
        targets: { services: { pricing: { endpoints: { 'Pricing.Missing': { fallback: 'spare' } } } } },
      }),
    )
    ;({ sidecar, api } = await startSidecar(app, blocks, {
      metadata: ['x-tenant'],
      service: {
        env: {
          ...process.env,
          MICRO_CONFIG_FILE: file,
          MICRO_CONFIG_SECRET_KEY: key,
          MICRO_RESILIENCE_FILE: policies,
          PY_ORDERS__ORDERS__CURRENCY: 'USD',
        },
      },
    }))
    pricing = await startService(blocks, 'pricing', new Pricing())
    // As if pricing ran in another process: the sidecar's client goes over the network.
    localServices.remove(blocks.namespace, pricing.server)
    await sidecar.ready
  })
  after(async () => {
    await pricing.stop()
    await sidecar.stop()
    await app.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('invoke: a TypeScript service answers through the sidecar, as the app, with metadata', async () => {
    const reply = await post(
      '/v1/invoke/pricing/Pricing.Quote',
      { item: 'tea', quantity: 2 },
      { 'x-tenant': 'acme' },
    )
    assert.deepEqual([reply.status, reply.body], [200, { total: 8, caller: 'py-orders', tenant: 'acme' }])
    // Dapr's shape and the slash form name the same endpoint.
    const dapr = await post('/v1.0/invoke/pricing/method/Pricing.Quote', { item: 'tea', quantity: 1 })
    assert.deepEqual(dapr.body, { total: 4, caller: 'py-orders' })
    const slashes = await post('/v1/invoke/pricing/Pricing/Quote', { item: 'tea', quantity: 3 })
    assert.equal((slashes.body as { total: number }).total, 12)
  })

  test("invoke: the service's error comes back with its code as the status", async () => {
    const reply = await post('/v1/invoke/pricing/Pricing.Quote', { item: 'wine', quantity: 1 })
    assert.equal(reply.status, 404)
    assert.deepEqual(reply.body, {
      id: 'pricing',
      code: 404,
      detail: 'no price for wine',
      status: 'Not Found',
    })
  })

  test('invoke: an unknown service or endpoint is a 404; Micro-Timeout is the deadline (408)', async () => {
    const unknown = await post('/v1/invoke/nobody/Any.Thing', {})
    assert.equal(unknown.status, 404)
    assert.match((unknown.body as { detail: string }).detail, /service nobody not found/)
    const missing = await post('/v1/invoke/pricing/Pricing.Nothing', {})
    assert.equal(missing.status, 404)
    const slow = await post('/v1/invoke/pricing/Pricing.Slow', {}, { 'micro-timeout': '200' })
    assert.equal(slow.status, 408)
  })

  test("invoke: the sidecar's client follows the resilience policies of MICRO_RESILIENCE_FILE", async () => {
    const reply = await post('/v1/invoke/pricing/Pricing.Missing', {})
    assert.deepEqual([reply.status, reply.body], [200, { fallback: true }])
  })

  test('invoke: the app may call itself through its sidecar (bytes all the way)', async () => {
    app.routes.set('/Orders.Get', (hit) => ({ body: { self: JSON.parse(hit.body.toString()) } }))
    const reply = await post('/v1/invoke/py-orders/Orders.Get', { id: 5 })
    assert.deepEqual([reply.status, reply.body], [200, { self: { id: 5 } }])
  })

  test('publish: a TypeScript subscriber gets the message, its metadata and the app as the caller', async () => {
    const seen: { payload: unknown; caller?: string; tenant?: string }[] = []
    await pricing.subscribe('orders.created', (payload, ctx) => {
      seen.push({ payload, caller: ctx.metadata['micro-caller'], tenant: ctx.metadata['x-tenant'] })
    })
    const reply = await post('/v1/publish/orders.created', { id: 1 }, { 'x-tenant': 'acme' })
    assert.equal(reply.status, 204)
    assert.ok(reply.headers.get('micro-id'))
    await until(() => seen.length === 1, 'the subscriber to get the order')
    assert.deepEqual(seen[0], { payload: { id: 1 }, caller: 'py-orders', tenant: 'acme' })
  })

  test('state: write, read with ETag, conditional writes and deletes (409 on a stale ETag)', async () => {
    const missing = await httpCall(api, 'GET', '/v1/state/order:1', undefined)
    assert.equal(missing.status, 204)
    const first = await post('/v1/state/order:1', { item: 'tea' })
    assert.deepEqual([first.status, first.headers.get('etag')], [204, '1'])
    const read = await httpCall(api, 'GET', '/v1/state/order:1', undefined)
    assert.deepEqual([read.status, read.body, read.headers.get('etag')], [200, { item: 'tea' }, '1'])
    const second = await post('/v1/state/order:1', { item: 'coffee' }, { 'if-match': '"1"' })
    assert.deepEqual([second.status, second.headers.get('etag')], [204, '2'])
    const stale = await post('/v1/state/order:1', { item: 'wine' }, { 'if-match': '1' })
    assert.equal(stale.status, 409)
    assert.match((stale.body as { detail: string }).detail, /ETag mismatch.*at ETag 2/)
    const created = await post('/v1/state/order:1', { item: 'x' }, { 'if-none-match': '*' })
    assert.equal(created.status, 409)
    const badTag = await post('/v1/state/order:1', { item: 'x' }, { 'if-match': 'abc' })
    assert.equal(badTag.status, 400)
    const wrongDelete = await httpCall(api, 'DELETE', '/v1/state/order:1', undefined, { 'if-match': '1' })
    assert.equal(wrongDelete.status, 409)
    const deleted = await httpCall(api, 'DELETE', '/v1/state/order:1', undefined, { 'if-match': '2' })
    assert.equal(deleted.status, 204)
    assert.equal((await httpCall(api, 'GET', '/v1/state/order:1', undefined)).status, 204)
    // The value is stored as JSON in the service's own table: TypeScript sees the object.
    await post('/v1/state/order:2', { item: 'tea' })
    const record = await blocks.store.read('order:2', { namespace: blocks.namespace, table: 'py-orders' })
    assert.deepEqual(record.value, { item: 'tea' })
  })

  test('state: two writers with the same ETag, concurrently: exactly one wins, the other gets 409', async () => {
    const base = await post('/v1/state/counter', { n: 0 })
    const etag = base.headers.get('etag') as string
    for (let round = 0; round < 5; round++) {
      const current = (await httpCall(api, 'GET', '/v1/state/counter', undefined)).headers.get(
        'etag',
      ) as string
      const results = await Promise.all(
        ['a', 'b'].map((writer) => post('/v1/state/counter', { writer, round }, { 'if-match': current })),
      )
      assert.deepEqual(results.map((r) => r.status).sort(), [204, 409], `round ${round}`)
    }
    assert.equal(
      (await httpCall(api, 'GET', '/v1/state/counter', undefined)).headers.get('etag'),
      String(Number(etag) + 5),
    )
  })

  test("state: Dapr's bulk save, bytes with their content type, and a TTL", async () => {
    const bulk = await post('/v1/state', [
      { key: 'a', value: { n: 1 } },
      { key: 'b', value: 'text', metadata: { ttlInSeconds: '60' } },
    ])
    assert.equal(bulk.status, 204)
    assert.deepEqual((await httpCall(api, 'GET', '/v1/state/b', undefined)).body, 'text')
    const stale = await post('/v1/state', [{ key: 'a', value: 2, etag: '7' }])
    assert.equal(stale.status, 409)
    const bytes = await post('/v1/state/blob', Buffer.from([1, 2, 3]), {
      'content-type': 'application/octet-stream',
    })
    assert.equal(bytes.status, 204)
    const read = await fetch(`${api}/v1/state/blob`)
    assert.equal(read.headers.get('content-type'), 'application/octet-stream')
    assert.deepEqual([...new Uint8Array(await read.arrayBuffer())], [1, 2, 3])
    const ttl = await post('/v1/state/short?ttlInSeconds=60', { n: 1 })
    assert.equal(ttl.status, 204)
    const record = await blocks.store.read('short', { namespace: blocks.namespace, table: 'py-orders' })
    assert.ok(record.expiry !== undefined && record.expiry <= 60_000, `expiry ${record.expiry}`)
  })

  test('config: a path from env, a secret masked unless revealed, 404 when unset', async () => {
    const currency = await httpCall(api, 'GET', '/v1/config/orders/currency', undefined)
    assert.deepEqual([currency.status, currency.body], [200, 'USD'])
    assert.deepEqual((await httpCall(api, 'GET', '/v1/config/orders.currency', undefined)).body, 'USD')
    const masked = await httpCall(api, 'GET', '/v1/config/db', undefined)
    assert.deepEqual(masked.body, { password: '[secret]' })
    const revealed = await httpCall(api, 'GET', '/v1/config/db/password?reveal=true', undefined)
    assert.deepEqual(revealed.body, 'hunter2')
    const unset = await httpCall(api, 'GET', '/v1/config/nothing/here', undefined)
    assert.equal(unset.status, 404)
  })

  test('events: publish to a durable stream and read it back', async () => {
    const first = await post('/v1/events/orders', { id: 1 })
    assert.equal(first.status, 201)
    const record = first.body as { id: string; sequence: number; topic: string }
    assert.equal(record.topic, 'orders')
    await post('/v1/events/orders', Buffer.from([9]), { 'content-type': 'application/octet-stream' })
    const read = await httpCall(api, 'GET', '/v1/events/orders?offset=1&limit=10', undefined)
    const events = read.body as {
      id: string
      data?: unknown
      data_base64?: string
      metadata: Record<string, string>
    }[]
    assert.deepEqual(
      events.map((e) => e.data ?? e.data_base64),
      [{ id: 1 }, Buffer.from([9]).toString('base64')],
    )
    assert.equal(events[0]?.id, record.id)
    assert.equal(events[0]?.metadata['micro-caller'], 'py-orders')
    const stored = await blocks.events.read('orders', { namespace: blocks.namespace })
    assert.equal(stored.length, 2)
  })
})
