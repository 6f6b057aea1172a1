import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { msgpackCodec } from '../../src/codec/msgpack.js'
import { MicroError } from '../../src/errors/errors.js'
import type { Service } from '../../src/service/service.js'
import type { Sidecar } from '../../src/sidecar/sidecar.js'
import { httpCall } from '../../src/testing/http-call.js'
import { type Blocks, FakeApp, memoryBlocks, startService, startSidecar } from '../support/sidecar.js'
import { until } from '../support/until.js'

/**
 * Calls to the app's service arrive at the sidecar's service port (the micro protocol and
 * HTTP) and are forwarded to the app: bytes through, errors both ways, deadlines and
 * metadata as headers, a slow or dead app answered for promptly.
 */
describe('sidecar inbound: calls to the service are forwarded to the app', () => {
  const app = new FakeApp()
  let blocks: Blocks
  let sidecar: Sidecar
  let caller: Service
  /** Call the sidecar's service over the network (its port), as another process would. */
  const call = (endpoint: string, req: unknown, options: Record<string, unknown> = {}) =>
    caller.client.call('py-orders', endpoint, req, {
      address: sidecar.service.address as string,
      ...options,
    } as never)

  before(async () => {
    await app.listen()
    app.endpoints = [
      { name: 'Orders.Create', path: '/orders/create', request: { type: 'object', required: ['item'] } },
      { name: 'Orders.Get', idempotent: true },
      'Orders.Slow',
      'Orders.Fail',
      'Orders.Raw',
    ]
    blocks = memoryBlocks()
    ;({ sidecar } = await startSidecar(app, blocks, { metadata: ['traceparent', 'x-tenant', 'x-*'] }))
    await sidecar.ready
    caller = await startService(blocks, 'ts-caller')
  })
  after(async () => {
    await caller.stop()
    await sidecar.stop()
    await app.close()
  })

  test('the request bytes reach the app at its path; its JSON reply comes back', async () => {
    app.routes.set('/orders/create', (hit) => ({ body: { got: JSON.parse(hit.body.toString()), ok: true } }))
    const reply = await call('Orders.Create', { item: 'tea', quantity: 2 })
    assert.deepEqual(reply, { got: { item: 'tea', quantity: 2 }, ok: true })
    const hit = app.hitsOn('/orders/create').at(-1)
    assert.equal(hit?.method, 'POST')
    assert.equal(hit?.headers['content-type'], 'application/json')
    assert.equal(hit?.headers['micro-endpoint'], 'Orders.Create')
    assert.equal(hit?.headers['micro-service'], 'py-orders')
    assert.equal(hit?.headers['micro-caller'], 'ts-caller')
  })

  test('the default path is /<Handler.Method>; HTTP callers of the service port work too', async () => {
    app.routes.set('/Orders.Get', () => ({ body: { id: 7 } }))
    const viaHttp = await httpCall(`http://${sidecar.service.address}`, 'POST', '/Orders/Get', { id: 7 })
    assert.deepEqual([viaHttp.status, viaHttp.body], [200, { id: 7 }])
  })

  test("the app's error JSON keeps its id, code and detail", async () => {
    app.routes.set('/Orders.Fail', () => ({
      status: 409,
      body: { id: 'orders', code: 409, detail: 'sold out' },
    }))
    const error = await call('Orders.Fail', {}).catch((e: unknown) => e)
    assert.ok(error instanceof MicroError)
    assert.deepEqual([error.id, error.code, error.detail], ['orders', 409, 'sold out'])
  })

  test('a plain non-2xx answer becomes its status as the code, its text as the detail', async () => {
    app.routes.set('/Orders.Fail', () => ({
      status: 500,
      body: 'Traceback: boom',
      headers: { 'content-type': 'text/plain' },
    }))
    const error = (await call('Orders.Fail', {}).catch((e: unknown) => e)) as MicroError
    assert.deepEqual([error.id, error.code, error.detail], ['py-orders', 500, 'Traceback: boom'])
    app.routes.set('/Orders.Fail', () => ({ status: 404, body: { message: 'no such order' } }))
    const missing = (await call('Orders.Fail', {}).catch((e: unknown) => e)) as MicroError
    assert.deepEqual([missing.code, missing.detail], [404, 'no such order'])
  })

  test('a redirect or a non-JSON reply to a JSON call is a 502 saying so', async () => {
    app.routes.set('/Orders.Fail', () => ({ status: 302, headers: { location: '/elsewhere' } }))
    const redirect = (await call('Orders.Fail', {}).catch((e: unknown) => e)) as MicroError
    assert.equal(redirect.code, 502)
    assert.match(redirect.detail, /HTTP 302/)
    app.routes.set('/Orders.Fail', () => ({ body: '<html>', headers: { 'content-type': 'text/html' } }))
    const html = (await call('Orders.Fail', {}).catch((e: unknown) => e)) as MicroError
    assert.equal(html.code, 502)
    assert.match(html.detail, /text\/html, not JSON/)
  })

  test("the caller's deadline reaches the app as Micro-Timeout, never more than it gave", async () => {
    app.routes.set('/Orders.Get', () => ({ body: {} }))
    await call('Orders.Get', {}, { timeout: 4000 })
    const sent = Number(app.hitsOn('/Orders.Get').at(-1)?.headers['micro-timeout'])
    assert.ok(sent > 0 && sent <= 4000, `Micro-Timeout was ${sent}`)
  })

  test('metadata crosses by the allow-list only; credentials never do', async () => {
    app.routes.set('/Orders.Get', () => ({ body: {} }))
    await call(
      'Orders.Get',
      {},
      {
        metadata: {
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          'x-tenant': 'acme',
          'x-region': 'eu',
          secret: 'nope',
          authorization: 'Bearer stolen',
          cookie: 'session=1',
          'micro-caller-token': 'eyJ',
        },
      },
    )
    const headers = app.hitsOn('/Orders.Get').at(-1)?.headers ?? {}
    assert.equal(headers.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
    assert.equal(headers['x-tenant'], 'acme')
    assert.equal(headers['x-region'], 'eu')
    for (const name of ['secret', 'authorization', 'cookie', 'micro-caller-token']) {
      assert.equal(headers[name], undefined, `${name} reached the app`)
    }
  })

  test('a MessagePack call reaches the app as JSON and its reply goes back as MessagePack', async () => {
    app.routes.set('/Orders.Get', (hit) => ({ body: { echo: JSON.parse(hit.body.toString()) } }))
    const reply = await call('Orders.Get', { id: 3, tags: ['a'] }, { contentType: 'application/msgpack' })
    assert.deepEqual(reply, { echo: { id: 3, tags: ['a'] } })
    assert.equal(app.hitsOn('/Orders.Get').at(-1)?.headers['content-type'], 'application/json')
    // What went over the wire both ways was MessagePack: the same call over HTTP shows it.
    const viaHttp = await fetch(`http://${sidecar.service.address}/Orders/Get`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: msgpackCodec.encode({ id: 4 }) as Uint8Array<ArrayBuffer>,
    })
    assert.equal(viaHttp.headers.get('content-type'), 'application/msgpack')
    assert.deepEqual(msgpackCodec.decode(new Uint8Array(await viaHttp.arrayBuffer())), { echo: { id: 4 } })
  })

  test('raw bytes pass through untouched both ways', async () => {
    app.routes.set('/Orders.Raw', (hit) => ({
      body: Buffer.concat([hit.body, Buffer.from([0xff])]),
      headers: { 'content-type': 'application/octet-stream' },
    }))
    const reply = (await call('Orders.Raw', Buffer.from([0, 1, 2]), {
      contentType: 'application/octet-stream',
    })) as Buffer
    assert.deepEqual([...reply], [0, 1, 2, 0xff])
    assert.equal(app.hitsOn('/Orders.Raw').at(-1)?.headers['content-type'], 'application/octet-stream')
  })

  test('a slow app: 408 at the deadline and its request is abandoned (socket closed)', async () => {
    app.routes.set('/Orders.Slow', () => 'hang')
    const before = app.aborted
    const error = (await call('Orders.Slow', {}, { timeout: 300 }).catch((e: unknown) => e)) as MicroError
    assert.equal(error.code, 408)
    await until(() => app.aborted > before, 'the app to see its request abandoned')
  })

  test('a dead app: 503 at once, the sidecar stays up, and calls work again when it returns', async () => {
    app.routes.set('/Orders.Get', () => ({ body: { back: true } }))
    await app.close()
    const error = (await call('Orders.Get', {}, { timeout: 10_000, retries: 0 }).catch(
      (e: unknown) => e,
    )) as MicroError
    assert.equal(error.code, 503)
    assert.match(error.detail, /not answering/)
    await until(() => !sidecar.health().ready, 'the sidecar to see the app down')
    const health = await httpCall(`http://${sidecar.address}`, 'GET', '/v1/healthz', undefined)
    assert.equal(health.status, 503)
    assert.match(String((health.body as { detail: string }).detail), /stopped answering/)
    await app.listen()
    assert.deepEqual(await call('Orders.Get', {}), { back: true })
    await until(() => sidecar.health().ready, 'the sidecar to see the app back')
  })

  test('the app declared schemas and idempotency are published in the registry', async () => {
    const records = await blocks.registry.getService('py-orders', { namespace: blocks.namespace })
    const endpoints = records[0]?.endpoints ?? []
    assert.deepEqual(endpoints.map((e) => e.name).sort(), [
      'Orders.Create',
      'Orders.Fail',
      'Orders.Get',
      'Orders.Raw',
      'Orders.Slow',
    ])
    const create = endpoints.find((e) => e.name === 'Orders.Create')
    assert.deepEqual(create?.request, { type: 'object', required: ['item'] })
    assert.equal(endpoints.find((e) => e.name === 'Orders.Get')?.metadata.idempotent, 'true')
    assert.equal(create?.metadata.idempotent, undefined)
  })
})
