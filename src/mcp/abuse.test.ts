import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { type McpWorld, startMcpWorld } from '../../test/support/mcp.js'
import { AuditRing } from './audit.js'

// Bad input on /mcp: every attack gets a clear answer (an HTTP status and a JSON-RPC error
// body), nothing crashes, and the next good request is served.

let world: McpWorld
const audit = new AuditRing(100)
before(async () => {
  world = await startMcpWorld({
    engine: {
      audit,
      rateLimits: { default: false, tools: { greeter_Greeter_Wipe: { rate: 0.001, burst: 2 } } },
    },
    http: { maxBodySize: 64 * 1024, maxSessions: 3 },
  })
})
after(async () => {
  await world.close()
})

const ACCEPT = 'application/json, text/event-stream'
const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
}

/** POST a body to /mcp; resolves with the status, headers and parsed (or raw) body. */
async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(world.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body,
  })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: res.status, headers: res.headers, json }
}

/** A request with headers fetch would not let us set (Host). */
function raw(
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; body: string }> {
  const url = new URL(world.url)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.on('data', (d: Buffer) => {
          text += d.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** A good call still works: the server kept serving. */
async function stillServes() {
  const client = new Client({ name: 'after', version: '1' })
  await client.connect(new StreamableHTTPClientTransport(new URL(world.url)))
  try {
    const result = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'ok' } })
    assert.deepEqual(result.structuredContent, { message: 'Hello ok' })
  } finally {
    await client.close()
  }
}

describe('bad input on /mcp', () => {
  test('malformed JSON: 400 with a JSON-RPC parse error (-32700)', async () => {
    const res = await post('{"jsonrpc": "2.0", "id": 1, "method": ')
    assert.equal(res.status, 400)
    assert.equal(res.json.error.code, -32700)
    assert.match(res.json.error.message, /Parse error/)
    await stillServes()
  })

  test('JSON that is no JSON-RPC message, and an unknown method: JSON-RPC errors', async () => {
    const junk = await post('{"hello": "world"}')
    assert.ok(junk.status >= 400 && junk.status < 500, `status ${junk.status}`)
    assert.equal(typeof junk.json.error?.code, 'number')
    const session = await post(JSON.stringify(INIT))
    assert.equal(session.status, 200)
    const id = session.headers.get('mcp-session-id') as string
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }
    await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers)
    const unknown = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/destroy' }), headers)
    assert.equal(unknown.json.error?.code, -32601)
    const badArgs = await post(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'greeter_Greeter_Hello', arguments: [1, 2] },
      }),
      headers,
    )
    assert.equal(badArgs.json.error?.code, -32602)
    const noName = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: {} }),
      headers,
    )
    assert.equal(noName.json.error?.code, -32602)
    const badCursor = await post(
      JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { cursor: 'x' } }),
      headers,
    )
    assert.equal(badCursor.json.error?.code, -32602)
    const deleted = await fetch(world.url, { method: 'DELETE', headers })
    assert.equal(deleted.status, 200)
    await stillServes()
  })

  test('a body over the limit: 413 before it is read, the connection closed', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'greeter_Greeter_Hello', arguments: { name: 'x'.repeat(100 * 1024) } },
    })
    const res = await raw(
      'POST',
      { host: new URL(world.url).host, 'content-type': 'application/json', accept: ACCEPT },
      big,
    )
    assert.equal(res.status, 413)
    assert.match(JSON.parse(res.body).error.message, /over the 65536-byte limit/)
    await stillServes()
  })

  test('deeply nested arguments: a clear error, no crash', async () => {
    const session = await post(JSON.stringify(INIT))
    const headers = {
      'mcp-session-id': session.headers.get('mcp-session-id') as string,
      'mcp-protocol-version': '2025-11-25',
    }
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const body = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"greeter_Greeter_Echo","arguments":{"a":${deep}}}}`
    const res = await post(body, headers)
    assert.ok(res.status < 500, `status ${res.status}`)
    const answer = res.json.result ?? res.json.error
    assert.ok(answer, 'an answer')
    if (res.json.result) assert.equal(res.json.result.isError, true)
    await stillServes()
  })

  test('wrong content type 415, wrong method 405, GET without a session 400, unknown session 404', async () => {
    const text = await post(JSON.stringify(INIT), { 'content-type': 'text/plain' })
    assert.equal(text.status, 415)
    const put = await fetch(world.url, { method: 'PUT', body: '{}' })
    assert.equal(put.status, 405)
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE')
    const get = await fetch(world.url, { headers: { accept: 'text/event-stream' } })
    assert.equal(get.status, 400)
    const lost = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
      'mcp-session-id': 'no-such-session',
      'mcp-protocol-version': '2025-11-25',
    })
    assert.equal(lost.status, 404)
    assert.match(lost.json.error.message, /Session not found/)
    await stillServes()
  })

  test('DNS rebinding: a foreign Host or Origin is refused with 403; localhost is served', async () => {
    const port = new URL(world.url).port
    const evil = await raw(
      'POST',
      {
        host: 'evil.example.com',
        origin: 'http://evil.example.com',
        'content-type': 'application/json',
        accept: ACCEPT,
      },
      JSON.stringify(INIT),
    )
    assert.equal(evil.status, 403)
    assert.match(JSON.parse(evil.body).error.message, /Host evil\.example\.com is not allowed/)
    const page = await raw(
      'POST',
      {
        host: `127.0.0.1:${port}`,
        origin: 'https://evil.example.com',
        'content-type': 'application/json',
        accept: ACCEPT,
      },
      JSON.stringify(INIT),
    )
    assert.equal(page.status, 403)
    assert.match(JSON.parse(page.body).error.message, /Origin https:\/\/evil\.example\.com is not allowed/)
    const local = await raw(
      'POST',
      {
        host: `localhost:${port}`,
        origin: `http://localhost:${port}`,
        'content-type': 'application/json',
        accept: ACCEPT,
      },
      JSON.stringify(INIT),
    )
    assert.equal(local.status, 200)
  })

  test('sessions are bounded: past the limit the longest idle goes, never an unbounded table', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await post(JSON.stringify(INIT))
      assert.equal(res.status, 200)
    }
    assert.ok(world.mcp.sessions <= 3, `${world.mcp.sessions} sessions`)
    await stillServes()
  })

  test('a tool over its rate limit: isError 429 with when to retry, audited as denied', async () => {
    const client = new Client({ name: 'limits', version: '1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(world.url)))
    try {
      const results = []
      for (let i = 0; i < 3; i++)
        results.push(await client.callTool({ name: 'greeter_Greeter_Wipe', arguments: {} }))
      assert.deepEqual(
        results.slice(0, 2).map((r) => r.isError),
        [undefined, undefined],
      )
      assert.equal(results[2]?.isError, true)
      const error = results[2]?.structuredContent as { code: number; detail: string }
      assert.equal(error.code, 429)
      assert.match(error.detail, /retry after \d+ ms/)
      const other = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'x' } })
      assert.equal(other.isError, undefined, 'other tools have their own bucket')
    } finally {
      await client.close()
    }
    const denied = audit.recent().findLast((r) => r.tool === 'greeter_Greeter_Wipe')
    assert.equal(denied?.allowed, false)
    assert.equal(denied?.reason, 'rate limited')
  })
})

describe('per-client request rate on /mcp', () => {
  test('past the limit: 429 with Retry-After', async () => {
    const limited = await startMcpWorld({ http: { rateLimit: { rate: 0.001, burst: 3 } } })
    try {
      const statuses = []
      for (let i = 0; i < 4; i++) {
        const res = await fetch(limited.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: ACCEPT },
          body: JSON.stringify(INIT),
        })
        await res.text()
        statuses.push(res.status)
        if (i === 3) assert.ok(Number(res.headers.get('retry-after')) >= 1)
      }
      assert.deepEqual(statuses, [200, 200, 200, 429])
    } finally {
      await limited.close()
    }
  })
})
