import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Foo, type GatewayWorld, startService, startWorld } from '../../../test/support/gateway.js'
import { httpCall } from '../../testing/http-call.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

describe('gateway: the curl forms against real services', () => {
  let world: GatewayWorld
  before(async () => {
    world = await startWorld()
  })
  after(() => world.close())

  test('POST /api/greeter/hello with curl -d (JSON under the form type)', async () => {
    const r = await httpCall(world.base, 'POST', '/api/greeter/hello', '{"name":"Alice"}', FORM)
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, { message: 'Hello Alice' })
    assert.match(r.headers.get('content-type') ?? '', /application\/json/)
  })

  test('POST /api/greeter/Greeter.Hello (the dotted form)', async () => {
    const r = await httpCall(world.base, 'POST', '/api/greeter/Greeter.Hello', '{"name":"Alice"}', FORM)
    assert.deepEqual([r.status, r.body], [200, { message: 'Hello Alice' }])
  })

  test('POST /rpc with {service, endpoint, request}', async () => {
    const body = '{"service":"greeter","endpoint":"Greeter.Hello","request":{"name":"Alice"}}'
    const r = await httpCall(world.base, 'POST', '/rpc', body, FORM)
    assert.deepEqual([r.status, r.body], [200, { message: 'Hello Alice' }])
    const form = await httpCall(
      world.base,
      'POST',
      '/rpc',
      `service=greeter&method=Greeter.Hello&request=${encodeURIComponent('{"name":"Bob"}')}`,
      FORM,
    )
    assert.deepEqual([form.status, form.body], [200, { message: 'Hello Bob' }])
  })

  test('the Micro v3 path rules reach the right service and endpoint', async () => {
    const cases: [string, unknown][] = [
      ['/api/greeter/say/hello', { said: 'hello' }],
      ['/api/greeter/say-hi', { message: 'Hi stranger' }],
      ['/api/foo/bar/baz/cat', { cat: 'meow' }],
      ['/api/v1/foo/bar', { bar: true }],
    ]
    for (const [path, expected] of cases) {
      const r = await httpCall(world.base, 'POST', path, {})
      assert.deepEqual([r.status, r.body], [200, expected], path)
    }
  })

  test('form fields, query fields and JSON merge into the request; services get JSON', async () => {
    const form = await httpCall(world.base, 'POST', '/api/greeter/hello', 'name=Carol', FORM)
    assert.deepEqual(form.body, { message: 'Hello Carol' })
    const get = await httpCall(world.base, 'GET', '/api/greeter/hello?name=Dan', undefined)
    assert.deepEqual(get.body, { message: 'Hello Dan' })
    const echo = await httpCall(world.base, 'POST', '/api/greeter/echo?page=2&name=query', { name: 'body' })
    assert.deepEqual((echo.body as { request: unknown }).request, { page: 2, name: 'body' })
    const meta = (echo.body as { metadata: Record<string, string> }).metadata
    assert.equal(meta['content-type'] ?? 'application/json', 'application/json')
  })

  test('an empty reply is a 204', async () => {
    const r = await httpCall(world.base, 'POST', '/api/greeter/nothing', {})
    assert.equal(r.status, 204)
    assert.equal(r.text, '')
  })
})

describe('gateway: errors keep their shape', () => {
  let world: GatewayWorld
  before(async () => {
    world = await startWorld({ maxBodySize: 1024, requestTimeout: 5000 })
  })
  after(() => world.close())

  test('unknown service, endpoint or path: 404 with the error JSON (not 500 or 502)', async () => {
    for (const path of [
      '/api/nobody/hello',
      '/api/greeter/missing',
      '/api/greeter/Greeter.Missing',
      '/api/a%20b/c',
    ]) {
      const r = await httpCall(world.base, 'POST', path, {})
      assert.equal(r.status, 404, path)
      const body = r.body as Record<string, unknown>
      assert.equal(body.code, 404, path)
      assert.equal(body.status, 'Not Found')
      assert.equal(body.id, 'micro.gateway')
    }
    const rpc = await httpCall(world.base, 'POST', '/rpc', { service: 'nobody', endpoint: 'X.Y' })
    assert.equal(rpc.status, 404)
  })

  test('internal endpoints are never reachable (only registered endpoints are)', async () => {
    const secret = await startService(world.registry, 'secret', [new Foo()])
    secret.handle({ Wipe: async () => ({ wiped: true }) }, { name: 'Admin', internal: true })
    try {
      const direct = await secret.client.call(
        'secret',
        'Admin.Wipe',
        {},
        { address: secret.address as string },
      )
      assert.deepEqual(direct, { wiped: true }, 'the endpoint exists')
      const r = await httpCall(world.base, 'POST', '/api/secret/Admin.Wipe', {})
      assert.equal(r.status, 404)
      assert.equal((await httpCall(world.base, 'POST', '/api/secret/foo/bar', {})).status, 200)
    } finally {
      await secret.stop()
    }
  })

  test('a service error: HTTP status = its code, body = its JSON', async () => {
    const r = await httpCall(world.base, 'POST', '/api/greeter/refuse', {})
    assert.equal(r.status, 409)
    assert.deepEqual(r.body, { id: 'greeter', code: 409, detail: 'not yours', status: 'Conflict' })
    const thrown = await httpCall(world.base, 'POST', '/api/greeter/throw', {})
    assert.equal(thrown.status, 500)
    assert.equal((thrown.body as { detail: string }).detail, 'handler blew up')
    assert.doesNotMatch(thrown.text, /at .*\.ts:\d+/, 'no stack trace')
  })

  test('malformed JSON is a 400, and the gateway serves the next request', async () => {
    for (const [body, headers] of [
      ['{"name":', { 'content-type': 'application/json' }],
      ['{"name":', FORM],
    ] as const) {
      const r = await httpCall(world.base, 'POST', '/api/greeter/hello', body, headers)
      assert.equal(r.status, 400)
      assert.equal((r.body as { code: number }).code, 400)
    }
    const merged = await httpCall(world.base, 'POST', '/api/greeter/hello?x=1', '{"name":', FORM)
    assert.equal(merged.status, 400)
    const rpc = await httpCall(world.base, 'POST', '/rpc', '{"service":', FORM)
    assert.equal(rpc.status, 400)
    const bad = await httpCall(world.base, 'POST', '/rpc', { service: 'greeter', endpoint: 'hello' })
    assert.equal(bad.status, 400)
    const ok = await httpCall(world.base, 'POST', '/api/greeter/hello', { name: 'after' })
    assert.deepEqual(ok.body, { message: 'Hello after' })
  })

  test('a body over the limit is a 413 (declared or chunked), and the gateway goes on', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(4096) })
    const declared = await httpCall(world.base, 'POST', '/api/greeter/hello', big, {
      'content-type': 'application/json',
    })
    assert.equal(declared.status, 413)
    assert.equal((declared.body as { code: number }).code, 413)
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(512)))
        controller.close()
      },
    })
    const chunked = await fetch(`${world.base}/api/greeter/hello`, {
      method: 'POST',
      body: chunks,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit)
    assert.equal(chunked.status, 413)
    const ok = await httpCall(world.base, 'POST', '/api/greeter/hello', { name: 'small' })
    assert.equal(ok.status, 200)
  })

  test('Micro-Timeout bounds the call: 408 from the deadline', async () => {
    const r = await httpCall(world.base, 'POST', '/api/greeter/slow', {}, { 'micro-timeout': '50' })
    assert.equal(r.status, 408)
    assert.equal((r.body as { code: number }).code, 408)
  })

  test('methods: GET /rpc is 405, OPTIONS without Origin is 204, a stream endpoint over plain POST is 400', async () => {
    const get = await httpCall(world.base, 'GET', '/rpc', undefined)
    assert.equal(get.status, 405)
    assert.equal(get.headers.get('allow'), 'POST')
    const options = await httpCall(world.base, 'OPTIONS', '/api/greeter/hello', undefined)
    assert.equal(options.status, 204)
    const stream = await httpCall(world.base, 'POST', '/api/greeter/chat', { name: 'x' })
    assert.equal(stream.status, 400)
    assert.match((stream.body as { detail: string }).detail, /WebSocket|event-stream/)
    const unsupported = await httpCall(world.base, 'POST', '/api/greeter/hello', '<a/>', {
      'content-type': 'text/xml',
    })
    assert.equal(unsupported.status, 415)
  })

  test('/health/live, /health/ready and /metrics', async () => {
    assert.deepEqual((await httpCall(world.base, 'GET', '/health/live', undefined)).body, { status: 'ok' })
    assert.equal((await httpCall(world.base, 'GET', '/health/ready', undefined)).status, 200)
    await httpCall(world.base, 'POST', '/api/greeter/hello', {})
    const metrics = await httpCall(world.base, 'GET', '/metrics', undefined)
    assert.equal(metrics.status, 200)
    assert.match(
      metrics.text,
      /micro_gateway_requests_total\{service="greeter",endpoint="Greeter.Hello",code="200"\} \d+/,
    )
    assert.match(metrics.text, /micro_gateway_requests_total\{service="-",endpoint="-",code="404"\} \d+/)
    assert.match(
      metrics.text,
      /micro_gateway_request_duration_seconds_count\{service="greeter",endpoint="Greeter.Hello"\} \d+/,
    )
    const other = await httpCall(world.base, 'GET', '/elsewhere', undefined)
    assert.equal(other.status, 404, 'paths the gateway does not own fall through to the router')
  })
})
