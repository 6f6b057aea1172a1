import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { MicroError } from '../../errors/errors.js'
import { ServiceStore } from '../../store/service.js'
import { httpCall } from '../../testing/http-call.js'
import type { PlatformService } from './platform.js'
import { startTestPlatform } from './test-platform.js'

/** The platform port's frame limit in these tests: small, so oversize is cheap to send. */
const LIMIT = 64 * 1024

describe('the platform port over HTTP (other languages) and its bad input', () => {
  let platform: PlatformService
  let url: string
  before(async () => {
    platform = await startTestPlatform({ maxFrameSize: LIMIT })
    url = `http://${platform.address}`
  })
  after(() => platform.close())

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    httpCall(url, 'POST', path, body, headers)
  const ns = () => `http-${randomUUID().slice(0, 8)}`

  test('store, events, broker and registry answer plain JSON', async () => {
    const namespace = ns()
    assert.equal(
      (await post('/Store/Write', { namespace, key: 'user:1', value: { name: 'Ada' } })).status,
      200,
    )
    const bytes = Buffer.from([0, 1, 254, 255]).toString('base64')
    assert.equal((await post('/Store/Write', { namespace, key: 'raw', bytes, ttl: 60_000 })).status, 200)
    const read = await post('/Store/Read', { namespace, key: 'user:1' })
    assert.deepEqual(read.body, { records: [{ key: 'user:1', value: { name: 'Ada' }, metadata: {} }] })
    const raw = (await post('/Store/Read', { namespace, prefix: 'r' })).body as {
      records: { bytes: string; expiry: number }[]
    }
    assert.equal(raw.records[0]?.bytes, bytes)
    assert.ok((raw.records[0]?.expiry ?? 0) > 0)
    assert.deepEqual((await post('/Store/List', { namespace })).body, { keys: ['raw', 'user:1'] })
    assert.deepEqual((await post('/Store/Databases', { namespace })).body, { databases: ['micro'] })

    const published = (await post('/Events/Publish', { namespace, topic: 'orders', payload: { id: 7 } }))
      .body as {
      id: string
      sequence: number
      timestamp: string
    }
    assert.match(published.id, /^[0-9a-f-]{36}$/)
    assert.ok(!Number.isNaN(Date.parse(published.timestamp)))
    const events = (await post('/Events/Read', { namespace, topic: 'orders' })).body as {
      events: { id: string; payload: unknown; data: string; contentType: string }[]
    }
    assert.deepEqual(
      events.events.map((e) => [e.id, e.payload, e.contentType, Buffer.from(e.data, 'base64').toString()]),
      [[published.id, { id: 7 }, 'application/json', '{"id":7}']],
    )

    const sent = (await post('/Broker/Publish', { namespace, topic: 'pings', body: 'aGk=' })).body as {
      id: string
    }
    assert.match(sent.id, /^[0-9a-f-]{36}$/)

    const service = {
      name: 'http-svc',
      version: '1',
      nodes: [{ id: 'http-svc-1', address: '127.0.0.1:1', metadata: {} }],
    }
    assert.equal((await post('/Registry/Register', { namespace, service, ttl: 30_000 })).status, 200)
    const listed = (await post('/Registry/ListServices', { namespace })).body as {
      services: { name: string }[]
    }
    assert.deepEqual(
      listed.services.map((s) => s.name),
      ['http-svc'],
    )
  })

  test('bad input is a 400 (413 past the frame limit) naming the problem, and the port serves on', async () => {
    const namespace = ns()
    const cases: [string, unknown, RegExp, Record<string, string>?][] = [
      ['/Store/Read', '{"key": ', /invalid|JSON/i, { 'content-type': 'application/json' }],
      ['/Store/Read', [1, 2], /JSON object/],
      ['/Store/Read', { namespace: 'a b', key: 'k' }, /bad namespace/],
      ['/Store/Read', { namespace: '../etc', key: 'k' }, /bad namespace/],
      ['/Store/Read', { namespace: 'x'.repeat(65), key: 'k' }, /bad namespace/],
      ['/Store/Read', { namespace: '*', key: 'k' }, /bad namespace/],
      ['/Store/Read', { namespace: 7, key: 'k' }, /bad namespace/],
      ['/Store/Read', { namespace, key: 'k', prefix: 'k' }, /key or a query/],
      ['/Store/Write', { namespace, key: 'k' }, /value, or base64 bytes/],
      ['/Store/Write', { namespace, key: 'k', value: 1, bytes: 'AA==' }, /value, or base64 bytes/],
      ['/Store/Write', { namespace, key: 'k', bytes: 'not base64!' }, /base64/],
      ['/Store/Write', { namespace, key: 'k', value: 1, metadata: [1] }, /metadata/],
      ['/Store/Write', { namespace, key: 'k', value: 1, ttl: 'soon' }, /ttl must be a number/],
      ['/Store/List', { namespace, order: 'up' }, /order/],
      ['/Events/Publish', { namespace, topic: 'a b', payload: 1 }, /bad topic/],
      ['/Events/Publish', { namespace, topic: 'orders' }, /JSON/],
      ['/Events/Publish', { namespace, topic: 'orders', payload: 1, metadata: { n: 1 } }, /metadata\.n/],
      ['/Events/Publish', { namespace, topic: 'orders', payload: 1, timestamp: 'yesterday' }, /timestamp/],
      ['/Events/Read', { namespace, topic: 'orders', limit: 0 }, /limit/],
      ['/Broker/Publish', { namespace, topic: 'orders.*' }, /bad topic/],
      ['/Broker/Publish', { namespace, topic: 'orders', headers: { a: 1 } }, /headers\.a/],
      ['/Registry/Register', { namespace, service: { name: 'x' } }, /version/],
      [
        '/Registry/Register',
        { namespace, service: { name: 'x', version: '1', nodes: [{ id: '' }] } },
        /nodes/,
      ],
      ['/Registry/Register', { namespace, service: { name: 'x', version: '1', nodes: [] }, ttl: -1 }, /ttl/],
      ['/Registry/GetService', { namespace }, /service is required/],
      ['/Proxy/Call', { endpoint: 'Greeter.Hello' }, /service is required/],
      ['/Proxy/Call', { service: 'x', endpoint: 'Greeter.Hello', timeout: -5 }, /timeout/],
      ['/Registry/Watch', { namespace }, /stream/i],
      ['/Events/Consume', { namespace, topic: 'orders' }, /stream/i],
    ]
    for (const [path, body, detail, headers] of cases) {
      const response = await post(path, body, headers)
      assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}: ${response.text}`)
      assert.match(response.text, detail, `${path} ${JSON.stringify(body)}`)
    }
    const unknown = await post('/Store/Explode', { namespace })
    assert.equal(unknown.status, 404)

    const oversize = await post('/Store/Write', { namespace, key: 'big', value: 'x'.repeat(LIMIT + 1) })
    assert.equal(oversize.status, 413)
    // The same over the micro protocol: a 413 for that call, and the connection carries on.
    const store = new ServiceStore({ address: platform.address })
    try {
      await assert.rejects(
        store.write('big', 'x'.repeat(LIMIT + 1), { namespace }),
        (e: unknown) => e instanceof MicroError && e.code === 413,
      )
      await store.write('small', 'fits', { namespace })
      assert.equal((await store.read('small', { namespace })).value, 'fits')
    } finally {
      await store.close()
    }
    assert.deepEqual((await post('/Store/List', { namespace })).body, { keys: ['small'] })
  })
})
