import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Greeter, startService, startWorld } from '../../../test/support/gateway.js'
import { createLogger } from '../../logger/logger.js'
import { MemoryRegistry } from '../../registry/memory.js'
import { httpCall } from '../../testing/http-call.js'
import { createGateway } from './gateway.js'
import { serveGateway } from './serve.js'

describe('gateway policies', () => {
  test('version routing: Micro-Version picks the version through the selector', async () => {
    const registry = new MemoryRegistry()
    const v1 = await startService(registry, 'greeter', [new Greeter('1')], { version: '1' })
    const v2 = await startService(registry, 'greeter', [new Greeter('2')], { version: '2' })
    const gw = await serveGateway({
      address: '127.0.0.1:0',
      registry,
      rateLimit: false,
      logger: createLogger({ level: 'silent' }),
    })
    const base = `http://${gw.address}`
    try {
      const seen = new Set<string>()
      for (let i = 0; i < 20; i++) {
        for (const version of ['1', '2']) {
          const r = await httpCall(base, 'POST', '/api/greeter/version', {}, { 'micro-version': version })
          assert.deepEqual(r.body, { version }, `asked for ${version}`)
        }
        seen.add(
          ((await httpCall(base, 'POST', '/api/greeter/version', {})).body as { version: string }).version,
        )
      }
      assert.deepEqual([...seen].sort(), ['1', '2'], 'without the header both versions serve')
      const rpc = await httpCall(base, 'POST', '/rpc', {
        service: 'greeter',
        endpoint: 'Greeter.Version',
        version: '2',
      })
      assert.deepEqual(rpc.body, { version: '2' })
      const missing = await httpCall(base, 'POST', '/api/greeter/version', {}, { 'micro-version': '3' })
      assert.equal(missing.status, 404)
      assert.match((missing.body as { detail: string }).detail, /no version 3/)
    } finally {
      await gw.close()
      await Promise.all([v1.stop(), v2.stop()])
    }
  })

  test('CORS: allowed origins get their own origin back, never * with credentials; others 403', async () => {
    const world = await startWorld({ corsOrigins: ['http://app.example'], corsCredentials: true })
    try {
      const allowed = await httpCall(
        world.base,
        'POST',
        '/api/greeter/hello',
        {},
        { origin: 'http://app.example' },
      )
      assert.equal(allowed.status, 200)
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://app.example')
      assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true')
      assert.match(allowed.headers.get('vary') ?? '', /Origin/)

      const preflight = await httpCall(world.base, 'OPTIONS', '/api/greeter/hello', undefined, {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
      })
      assert.equal(preflight.status, 204)
      assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/)
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example')

      for (const method of ['OPTIONS', 'POST']) {
        const foreign = await httpCall(
          world.base,
          method,
          '/api/greeter/hello',
          method === 'POST' ? {} : undefined,
          {
            origin: 'http://evil.example',
          },
        )
        assert.equal(foreign.status, 403, method)
        assert.equal(foreign.headers.get('access-control-allow-origin'), null)
        assert.equal(foreign.headers.get('access-control-allow-credentials'), null)
      }
      const same = await httpCall(world.base, 'POST', '/api/greeter/hello', {}, { origin: world.base })
      assert.equal(same.status, 200, "the gateway's own origin (the dashboard) is allowed")
      const noOrigin = await httpCall(world.base, 'POST', '/api/greeter/hello', {})
      assert.equal(noOrigin.headers.get('access-control-allow-origin'), null)
    } finally {
      await world.close()
    }
  })

  test('CORS: * allows any origin without credentials, and refuses to combine with them', async () => {
    const world = await startWorld({ corsOrigins: ['*'] })
    try {
      const r = await httpCall(world.base, 'POST', '/api/greeter/hello', {}, { origin: 'http://any.example' })
      assert.equal(r.headers.get('access-control-allow-origin'), '*')
      assert.equal(r.headers.get('access-control-allow-credentials'), null)
    } finally {
      await world.close()
    }
    assert.throws(
      () => createGateway({ registry: new MemoryRegistry(), corsOrigins: ['*'], corsCredentials: true }),
      /cannot be combined with credentials/,
    )
  })

  test('rate limit: a client past its bucket gets 429 with Retry-After; health is not limited', async () => {
    const world = await startWorld({ rateLimit: { rate: 1, burst: 3 } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++)
        statuses.push((await httpCall(world.base, 'POST', '/api/greeter/hello', {})).status)
      assert.deepEqual(statuses.slice(0, 3), [200, 200, 200])
      const limited = await httpCall(world.base, 'POST', '/api/greeter/hello', {})
      assert.equal(limited.status, 429)
      assert.equal((limited.body as { code: number }).code, 429)
      assert.ok(Number(limited.headers.get('retry-after')) >= 1)
      assert.equal((await httpCall(world.base, 'GET', '/health/live', undefined)).status, 200)
      const metrics = await httpCall(world.base, 'GET', '/metrics', undefined)
      assert.match(metrics.text, /micro_gateway_requests_total\{service="-",endpoint="-",code="429"\} [1-9]/)
    } finally {
      await world.close()
    }
  })

  test('headers reach services through the allow-list; Cookie and Authorization never do', async () => {
    const world = await startWorld({ metadataHeaders: ['x-request-id', 'x-tenant'] })
    try {
      const r = await httpCall(
        world.base,
        'POST',
        '/api/greeter/echo',
        {},
        {
          cookie: 'session=secret',
          authorization: 'Bearer secret',
          'x-request-id': 'req-1',
          'x-tenant': 'acme',
          'x-other': 'dropped',
          'micro-caller': 'spoofed',
        },
      )
      const metadata = (r.body as { metadata: Record<string, string> }).metadata
      assert.equal(metadata['x-request-id'], 'req-1')
      assert.equal(metadata['x-tenant'], 'acme')
      assert.equal(metadata.cookie, undefined)
      assert.equal(metadata.authorization, undefined)
      assert.equal(metadata['x-other'], undefined)
      assert.equal(metadata['micro-caller'], 'micro.gateway')
      assert.doesNotMatch(r.text, /secret/)
    } finally {
      await world.close()
    }
    for (const header of ['Cookie', 'authorization', 'content-type', 'micro-endpoint']) {
      assert.throws(
        () => createGateway({ registry: new MemoryRegistry(), metadataHeaders: [header] }),
        TypeError,
        header,
      )
    }
  })

  test('the authorize hook: 401/403 before the service is looked up, metadata added on allow', async () => {
    const seen: string[] = []
    const world = await startWorld({
      authorize: (req, route) => {
        seen.push(`${route.service} ${route.endpoint}`)
        const token = req.headers['x-token']
        if (token === undefined) return { allow: false, code: 401, detail: 'who are you?' }
        if (token !== 'good') return { allow: false, code: 403, detail: 'not you' }
        return { allow: true, metadata: { 'micro-account': 'alice' } }
      },
    })
    try {
      assert.equal(
        (await httpCall(world.base, 'POST', '/api/nobody/hello', {})).status,
        401,
        'no hint that nobody does not exist',
      )
      assert.equal(
        (await httpCall(world.base, 'POST', '/api/greeter/echo', {}, { 'x-token': 'bad' })).status,
        403,
      )
      const ok = await httpCall(world.base, 'POST', '/api/greeter/echo', {}, { 'x-token': 'good' })
      assert.equal(ok.status, 200)
      assert.equal((ok.body as { metadata: Record<string, string> }).metadata['micro-account'], 'alice')
      assert.deepEqual(seen, ['nobody Nobody.Hello', 'greeter Greeter.Echo', 'greeter Greeter.Echo'])
    } finally {
      await world.close()
    }
  })
})
