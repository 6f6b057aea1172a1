import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type Fixture, startFixture } from '../../../test/support/dashboard/fixture.js'
import { api, readSse } from '../../../test/support/dashboard/http.js'
import { waitFor } from '../../events/conformance-kit.js'
import type { DashboardInfo, EndpointEntry, ServiceSummary, TraceSummary } from './types.js'

describe('dashboard API: services, catalog and the explorer', () => {
  let f: Fixture
  before(async () => {
    f = await startFixture({ runtime: false })
  })
  after(() => f.close())

  test('info says what is configured', async () => {
    const { status, body } = await api(f.url, 'GET', '/info')
    assert.equal(status, 200)
    const info = body as DashboardInfo
    assert.equal(info.readOnly, false)
    assert.equal(info.auth.enabled, false)
    assert.equal(info.namespace, 'micro')
    assert.ok(Object.values(info.features).every(Boolean), JSON.stringify(info.features))
  })

  test('services: versions, nodes, endpoint and subscriber counts, health', async () => {
    const { body } = await api(f.url, 'GET', '/services')
    const services = (body as { services: ServiceSummary[] }).services
    const greeter = services.find((s) => s.name === 'greeter')
    assert.deepEqual(greeter, {
      name: 'greeter',
      versions: ['1.2.0'],
      nodes: 1,
      endpoints: 3,
      subscribers: 1,
      health: 'up',
    })
    assert.ok(services.some((s) => s.name === 'orders'))
  })

  test('one service: records with schemas and subscribers; unknown is a 404', async () => {
    const { body } = await api(f.url, 'GET', '/services/greeter')
    const detail = body as {
      versions: {
        endpoints: { name: string; request?: Record<string, unknown>; metadata: Record<string, string> }[]
      }[]
    }
    const endpoints = detail.versions[0]?.endpoints ?? []
    const hello = endpoints.find((e) => e.name === 'Greeter.Hello')
    assert.deepEqual(Object.keys((hello?.request?.properties as object) ?? {}).sort(), [
      'address',
      'loud',
      'mood',
      'name',
      'tags',
      'times',
    ])
    assert.equal(endpoints.find((e) => e.name === 'user.created')?.metadata.queue, 'mailer')
    const missing = await api(f.url, 'GET', '/services/nobody')
    assert.equal(missing.status, 404)
    assert.deepEqual(Object.keys(missing.body as object).sort(), ['code', 'detail', 'id', 'status'])
  })

  test('the search index: one entry per endpoint with description, scopes and the stream flag', async () => {
    const { body } = await api(f.url, 'GET', '/endpoints')
    const entries = (body as { endpoints: EndpointEntry[] }).endpoints
    const hello = entries.find((e) => e.name === 'Greeter.Hello')
    assert.deepEqual(hello, {
      service: 'greeter',
      version: '1.2.0',
      name: 'Greeter.Hello',
      stream: false,
      description: 'Say hello to someone',
      scopes: ['greeter:read'],
    })
    assert.equal(entries.find((e) => e.name === 'Greeter.Ticks')?.stream, true)
    assert.ok(!entries.some((e) => e.name === 'user.created'), 'subscribers are not endpoints')
  })

  test('a call answers with the reply, its time and the trace it made', async () => {
    const res = await api(f.url, 'POST', '/call', {
      service: 'greeter',
      endpoint: 'Greeter.Hello',
      request: { name: 'Ada', loud: true },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, { message: 'HELLO ADA!', times: 1 })
    const traceId = res.headers.get('micro-trace-id') as string
    assert.match(traceId, /^[0-9a-f]{32}$/)
    assert.ok(Number(res.headers.get('micro-duration')) > 0)
    await waitFor(
      async () => (await api(f.url, 'GET', `/traces/${traceId}`)).status === 200,
      5000,
      'the trace',
    )
    const trace = (await api(f.url, 'GET', `/traces/${traceId}`)).body as {
      spans: { name: string; service: string; kind: string }[]
    }
    assert.ok(
      trace.spans.some((s) => s.name === 'Greeter.Hello' && s.service === 'greeter' && s.kind === 'server'),
    )
  })

  test('a failed call shows the service error with its real status', async () => {
    const invalid = await api(f.url, 'POST', '/call', {
      service: 'greeter',
      endpoint: 'Greeter.Hello',
      request: { times: 9 },
    })
    assert.equal(invalid.status, 400)
    assert.equal((invalid.body as { code: number }).code, 400)
    assert.match((invalid.body as { detail: string }).detail, /name/)
    const broken = await api(f.url, 'POST', '/call', { service: 'greeter', endpoint: 'Greeter.Fail' })
    assert.equal(broken.status, 500)
    assert.equal((broken.body as { detail: string }).detail, 'the greeter broke')
    assert.match(broken.headers.get('micro-trace-id') ?? '', /^[0-9a-f]{32}$/)
    const unknown = await api(f.url, 'POST', '/call', { service: 'greeter', endpoint: 'Greeter.Nope' })
    assert.equal(unknown.status, 404)
    const nobody = await api(f.url, 'POST', '/call', { service: 'nobody', endpoint: 'X.Y', timeout: 2000 })
    assert.ok(nobody.status === 404 || nobody.status === 503, `status ${nobody.status}`)
  })

  test('bad explorer requests are refused with a clear error, and the next good one is served', async () => {
    const cases: [string, unknown, Record<string, string>, number, RegExp][] = [
      ['no service', { endpoint: 'Greeter.Hello' }, {}, 400, /service is required/],
      ['not an object', [1, 2], {}, 400, /JSON object/],
      ['bad JSON', '{"service":', { 'content-type': 'application/json' }, 400, /not JSON/],
      [
        'form body',
        'service=greeter',
        { 'content-type': 'application/x-www-form-urlencoded' },
        415,
        /application\/json/,
      ],
      ['bad timeout', { service: 'greeter', endpoint: 'Greeter.Hello', timeout: -5 }, {}, 400, /timeout/],
      [
        'bad namespace',
        { service: 'greeter', endpoint: 'Greeter.Hello', namespace: 'a b' },
        {},
        400,
        /namespace/,
      ],
      [
        'bad metadata',
        { service: 'greeter', endpoint: 'Greeter.Hello', metadata: { a: 1 } },
        {},
        400,
        /metadata\.a/,
      ],
      [
        'deep nesting',
        `{"service":"g","endpoint":"E.F","request":${'['.repeat(100)}${']'.repeat(100)}}`,
        { 'content-type': 'application/json' },
        400,
        /deeper/,
      ],
      [
        'too big',
        { service: 'greeter', endpoint: 'Greeter.Hello', request: { name: 'x'.repeat(2 << 20) } },
        {},
        413,
        /over/,
      ],
    ]
    for (const [what, body, headers, status, detail] of cases) {
      const res = await api(f.url, 'POST', '/call', body, headers)
      assert.equal(res.status, status, what)
      assert.match((res.body as { detail: string }).detail, detail, what)
    }
    const good = await api(f.url, 'POST', '/call', {
      service: 'greeter',
      endpoint: 'Greeter.Hello',
      request: { name: 'Bo' },
    })
    assert.equal(good.status, 200)
  })

  test('unknown routes are 404, wrong methods 405, and paths outside the dashboard are not taken', async () => {
    assert.equal((await api(f.url, 'GET', '/nope')).status, 404)
    assert.equal((await api(f.url, 'DELETE', '/services')).status, 405)
    assert.equal((await api(f.url, 'GET', '/services/%E0%A4%A')).status, 400)
    const other = await fetch(`${f.url}/api/greeter/hello`)
    assert.equal(await other.text(), 'not the dashboard')
  })

  test('a streaming call: open, watch over SSE, send, half-close, see every message and the end', async () => {
    const opened = await api(f.url, 'POST', '/streams', { service: 'greeter', endpoint: 'Greeter.Ticks' })
    assert.equal(opened.status, 200)
    const { id, traceId } = opened.body as { id: string; traceId: string }
    assert.match(traceId, /^[0-9a-f]{32}$/)
    const watched = readSse(
      `${f.url}/dashboard/api/streams/${id}`,
      (events) => events.some((e) => e.event === 'end'),
      {
        onOpen: async () => {
          assert.equal(
            (await api(f.url, 'POST', `/streams/${id}/send`, { message: { count: 3 } })).status,
            200,
          )
          assert.equal((await api(f.url, 'POST', `/streams/${id}/close`, {})).status, 200)
        },
      },
    )
    const { events } = await watched
    assert.deepEqual(
      events.filter((e) => e.event === 'message').map((e) => e.data),
      [1, 2, 3].map((tick) => ({ tick, of: 3 })),
    )
    assert.equal(events.at(-1)?.event, 'end')
    assert.equal((await api(f.url, 'POST', `/streams/${id}/send`, { message: {} })).status, 404)
    assert.equal((await api(f.url, 'GET', '/streams/not-a-stream')).status, 404)
    assert.equal((await api(f.url, 'POST', `/streams/not-a-stream/send`, { message: 1 })).status, 404)
  })

  test('a stream can be canceled, and the number of open streams is bounded', async () => {
    const ids: string[] = []
    let refused: { status: number; body: unknown } | undefined
    for (let i = 0; i < 20; i++) {
      const res = await api(f.url, 'POST', '/streams', { service: 'greeter', endpoint: 'Greeter.Ticks' })
      if (res.status !== 200) {
        refused = res
        break
      }
      ids.push((res.body as { id: string }).id)
    }
    assert.equal(refused?.status, 429)
    for (const id of ids) assert.equal((await api(f.url, 'DELETE', `/streams/${id}`)).status, 200)
    assert.equal(
      (await api(f.url, 'POST', '/streams', { service: 'greeter', endpoint: 'Greeter.Ticks' })).status,
      200,
    )
  })

  test('traces: list with filters, live updates, RED series, topology and last errors', async () => {
    const live = readSse(
      `${f.url}/dashboard/api/traces/live`,
      (events) => events.some((e) => (e.data as TraceSummary).name === 'Orders.Place'),
      {
        onOpen: async () => {
          await api(f.url, 'POST', '/call', {
            service: 'orders',
            endpoint: 'Orders.Place',
            request: { item: 'tea' },
          })
        },
      },
    )
    const { events } = await live
    const placed = events.map((e) => e.data as TraceSummary).find((t) => t.name === 'Orders.Place')
    assert.ok(placed, 'no live trace for Orders.Place')
    await api(f.url, 'POST', '/call', {
      service: 'orders',
      endpoint: 'Orders.Place',
      request: { item: 'broken' },
    })
    await waitFor(
      async () =>
        ((await api(f.url, 'GET', '/traces?status=error&service=orders')).body as { traces: unknown[] })
          .traces.length > 0,
      5000,
      'an error trace',
    )
    const byEndpoint = (await api(f.url, 'GET', '/traces?endpoint=orders.place&limit=50')).body as {
      traces: TraceSummary[]
    }
    assert.ok(byEndpoint.traces.length >= 2)
    assert.ok(
      byEndpoint.traces.every((t) => t.services.includes('greeter')),
      'the trace spans both services',
    )
    const slow = (await api(f.url, 'GET', '/traces?minDuration=60000')).body as { traces: unknown[] }
    assert.deepEqual(slow.traces, [])
    for (const bad of ['status=maybe', 'minDuration=-1', 'limit=0', 'limit=abc'])
      assert.equal((await api(f.url, 'GET', `/traces?${bad}`)).status, 400, bad)
    assert.equal((await api(f.url, 'GET', '/traces/xyz')).status, 400)
    assert.equal((await api(f.url, 'GET', `/traces/${'0'.repeat(32)}`)).status, 404)

    const red = (await api(f.url, 'GET', '/metrics?window=600000&buckets=10')).body as {
      services: { service: string; requests: number[]; errors: number[] }[]
    }
    const orders = red.services.find((s) => s.service === 'orders')
    assert.equal(orders?.requests.length, 10)
    assert.ok((orders?.requests.reduce((a, b) => a + b, 0) ?? 0) >= 2)
    assert.ok((orders?.errors.reduce((a, b) => a + b, 0) ?? 0) >= 1)
    const topology = (await api(f.url, 'GET', '/topology')).body as {
      edges: { from: string; to: string; via: string; requests: number }[]
    }
    const edge = topology.edges.find((e) => e.from === 'orders' && e.to === 'greeter')
    assert.equal(edge?.via, 'rpc')
    assert.ok((edge?.requests ?? 0) >= 2)
    const errors = (await api(f.url, 'GET', '/errors?limit=5')).body as {
      errors: { service: string; message: string; traceId: string }[]
    }
    assert.ok(errors.errors.some((e) => e.service === 'orders' && /broken order/.test(e.message)))
    assert.equal((await api(f.url, 'GET', '/metrics?buckets=500')).status, 400)
  })
})
