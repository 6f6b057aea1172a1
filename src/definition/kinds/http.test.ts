import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { describe, test } from 'node:test'
import { notFound } from '../../errors/errors.js'
import { testService } from '../../testing/harness.js'
import { defineService, type HttpHandler } from '../define.js'
import type { Table } from '../table.js'

function config(runtime: Table = {}): Table {
  return { name: 'web', version: '1.0.0', types: ['http'], runtime: { http: runtime } }
}

const echo = defineService({
  http: () => async (request: Request) => {
    const url = new URL(request.url)
    if (url.pathname === '/fail') throw new Error('database exploded at /secret/path')
    if (url.pathname === '/missing') throw notFound('web', 'no such order')
    if (url.pathname === '/slow') await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms'))))
    const headers = new Headers({
      'x-seen-path': url.pathname + url.search,
      'content-type': 'application/json',
    })
    headers.append('set-cookie', 'a=1')
    headers.append('set-cookie', 'b=2')
    const body = request.method === 'POST' ? await request.text() : ''
    return new Response(JSON.stringify({ method: request.method, path: url.pathname, body }), {
      status: request.method === 'POST' ? 201 : 200,
      headers,
    })
  },
})

function withHandler(handler: HttpHandler) {
  return defineService({ http: () => handler })
}

/** A raw request with a chunked body (no content-length), as fetch cannot send one. */
function chunked(address: string, path: string, chunks: Buffer[]): Promise<{ status: number; body: string }> {
  const url = new URL(path, address)
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => {
        body += d.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    for (const c of chunks) req.write(c)
    req.end()
  })
}

describe('http kind', () => {
  test('a fetch handler serves under the base path, which it does not see', async () => {
    const t = await testService(echo, { config: config({ base_path: '/orders/' }) })
    try {
      const res = await t.http('POST', '/orders/items?x=1', 'hello')
      assert.equal(res.status, 201)
      assert.deepEqual(res.body, { method: 'POST', path: '/items', body: 'hello' })
      assert.equal(res.headers.get('x-seen-path'), '/items?x=1')
      assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'])
      assert.equal((await t.http('GET', '/orders?q=1')).status, 200)
      assert.deepEqual((await t.http('GET', '/orders')).body, { method: 'GET', path: '/', body: '' })
      const outside = await t.http('GET', '/other')
      assert.equal(outside.status, 404)
      assert.match((outside.body as { detail: string }).detail, /\/other is outside the base path \/orders/)
      const head = await t.http('HEAD', '/orders/x')
      assert.equal(head.status, 200)
      assert.equal(head.text, '')
    } finally {
      await t.stop()
    }
  })

  test('GET /health answers at the root whatever the base path', async () => {
    const t = await testService(echo, { config: config({ base_path: '/api' }) })
    try {
      const res = await t.http('GET', '/health')
      assert.equal(res.status, 200)
      assert.deepEqual(res.body, { status: 'ok', checks: {} })
      assert.equal((await t.http('POST', '/health')).status, 405)
    } finally {
      await t.stop()
    }
  })

  test('a node (req, res) handler gets the path without the base path', async () => {
    const node = withHandler((req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`node saw ${req.url}`)
    })
    const t = await testService(node, { config: config({ base_path: '/n' }) })
    try {
      assert.equal((await t.http('GET', '/n/a/b?c=d')).text, 'node saw /a/b?c=d')
    } finally {
      await t.stop()
    }
  })

  test('an app object with fetch (as a Hono app) is called as a method', async () => {
    class App {
      greeting = 'hi'
      fetch(_request: Request) {
        return new Response(this.greeting)
      }
    }
    const t = await testService(withHandler(new App()), { config: config() })
    try {
      assert.equal((await t.http('GET', '/')).text, 'hi')
    } finally {
      await t.stop()
    }
  })

  test('a handler that throws gets a 500 with its message and no stack; a MicroError keeps its code', async () => {
    const t = await testService(echo, { config: config() })
    try {
      const failed = await t.http('GET', '/fail')
      assert.equal(failed.status, 500)
      assert.deepEqual(Object.keys(failed.body as object).sort(), ['code', 'detail', 'id', 'status'])
      // Absolute paths never reach a caller (MicroError.toJSON): the file name stays.
      assert.equal((failed.body as { detail: string }).detail, 'database exploded at .../path')
      assert.ok(!failed.text.includes('http.test.ts'), failed.text)
      const missing = await t.http('GET', '/missing')
      assert.equal(missing.status, 404)
      assert.equal((missing.body as { detail: string }).detail, 'no such order')
      assert.equal((await t.http('GET', '/ok')).status, 200)
    } finally {
      await t.stop()
    }
  })

  test('a body over the limit is refused with 413, by content-length or while streaming', async () => {
    const t = await testService(echo, { config: config({ body_limit: 1024 }) })
    try {
      const declared = await t.http('POST', '/x', 'a'.repeat(2000))
      assert.equal(declared.status, 413)
      assert.match((declared.body as { detail: string }).detail, /limit of 1024 bytes \(body_limit\)/)
      const streamed = await chunked(t.address('http') as string, '/x', [
        Buffer.alloc(600, 97),
        Buffer.alloc(600, 98),
      ])
      assert.equal(streamed.status, 413)
      assert.equal((await t.http('POST', '/x', 'small')).status, 201)
    } finally {
      await t.stop()
    }
  })

  test('a handler slower than handler_timeout gets a 504; the next request is served', async () => {
    const t = await testService(echo, { config: config({ handler_timeout: '100ms' }) })
    try {
      const slow = await t.http('GET', '/slow?ms=1000')
      assert.equal(slow.status, 504)
      assert.match((slow.body as { detail: string }).detail, /did not answer within 100 ms/)
      assert.equal((await t.http('GET', '/slow?ms=1')).status, 200)
    } finally {
      await t.stop()
    }
  })

  test('CORS: preflights of allowed origins get 204 with the headers, others 403; responses carry the origin', async () => {
    const t = await testService(echo, {
      config: config({
        cors: {
          origins: ['https://app.example.com'],
          headers: ['content-type'],
          credentials: true,
          max_age: '10m',
        },
      }),
    })
    try {
      const preflight = await t.http('OPTIONS', '/x', undefined, {
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
      })
      assert.equal(preflight.status, 204)
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com')
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true')
      assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type')
      assert.equal(preflight.headers.get('access-control-max-age'), '600')
      const denied = await t.http('OPTIONS', '/x', undefined, {
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      })
      assert.equal(denied.status, 403)
      const simple = await t.http('GET', '/x', undefined, { headers: { origin: 'https://app.example.com' } })
      assert.equal(simple.headers.get('access-control-allow-origin'), 'https://app.example.com')
      const other = await t.http('GET', '/x', undefined, { headers: { origin: 'https://evil.example.com' } })
      assert.equal(other.status, 200)
      assert.equal(other.headers.get('access-control-allow-origin'), null)
    } finally {
      await t.stop()
    }
  })

  test('stop lets a request in flight finish, and refuses new connections', async () => {
    let started!: () => void
    const inHandler = new Promise<void>((r) => {
      started = r
    })
    let release!: () => void
    const held = withHandler(async () => {
      started()
      await new Promise<void>((r) => {
        release = r
      })
      return new Response('finished')
    })
    const t = await testService(held, { config: config() })
    const address = t.address('http') as string
    const inFlight = t.http('GET', '/')
    await inHandler
    const stopped = t.stop()
    // Once draining, new connections are refused (bounded wait: stop gets there asynchronously).
    const deadline = Date.now() + 5000
    let refused = false
    while (!refused && Date.now() < deadline) {
      refused = await fetch(`${address}/health`, { signal: AbortSignal.timeout(1000) }).then(
        () => false,
        () => true,
      )
      if (!refused) await new Promise((r) => setTimeout(r, 10))
    }
    assert.ok(refused, 'a new connection is refused while draining')
    release()
    const res = await inFlight
    assert.equal(res.status, 200)
    assert.equal(res.text, 'finished')
    await stopped
  })

  test('a factory that returns no handler fails the start with a clear message', async () => {
    await assert.rejects(
      testService(withHandler('nope' as unknown as HttpHandler), { config: config() }),
      /kind http failed to start: the http factory must return a fetch-style handler/,
    )
  })
})
