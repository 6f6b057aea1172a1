import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import { type McpWorld, startMcpWorld } from '../../test/support/mcp.js'
import type { Rule } from '../auth/auth.js'
import type { LoginResult } from '../auth/authority.js'
import { authorityGatewayAuthorizer } from '../auth/gateway.js'
import { authorizerAccess } from './access.js'
import { AuditRing } from './audit.js'

// Per-tool access with real tokens from a real Authority (enforce mode, deny by default):
// the rules and the endpoint's scopes decide each call; refusals are isError 401/403 and
// audited; a bad token is an HTTP 401 before any MCP message; no token reaches the audit.

let platform: TestPlatform
let world: McpWorld
let audit: AuditRing
const tokens: Record<string, string> = {}

async function login(id: string, scopes: string[]): Promise<string> {
  await platform.call('Accounts.Create', { id, secret: `${id}-secret-1`, scopes }, tokens.admin)
  const reply = await platform.call<LoginResult>('Auth.Login', { id, secret: `${id}-secret-1` })
  return reply.token.accessToken
}

before(async () => {
  platform = await startPlatform()
  tokens.admin = (await platform.bootstrapAdmin()).token.accessToken
  const rule: Rule = {
    id: 'greeter-for-all',
    scope: '*',
    resource: { type: 'service', name: 'greeter', endpoint: '*' },
    access: 'granted',
    priority: 1,
  }
  await platform.call('Rules.Create', { namespace: 'micro', rule }, tokens.admin)
  tokens.viewer = await login('viewer', ['viewer'])
  tokens.writer = await login('writer', ['orders:write'])
  audit = new AuditRing(100)
  world = await startMcpWorld({
    engine: { access: authorizerAccess(authorityGatewayAuthorizer(platform.authority)), audit },
  })
})
after(async () => {
  await world?.close()
  await platform?.close()
})

async function connect(token: string | undefined, mode: 'legacy' | { pin: string } = 'legacy') {
  const client = new Client({ name: 'auth-test', version: '1.0.0' }, { versionNegotiation: { mode } })
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  await client.connect(new StreamableHTTPClientTransport(new URL(world.url), { requestInit: { headers } }))
  return client
}

async function initialize(headers: Record<string, string>) {
  return fetch(world.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  })
}

describe('MCP access with a real Authority (enforce)', () => {
  test('no token: HTTP 401 with WWW-Authenticate, before any MCP message', async () => {
    const res = await initialize({})
    assert.equal(res.status, 401)
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="micro"/)
    const body = (await res.json()) as { error: { message: string } }
    assert.match(body.error.message, /needs a token/)
  })

  test('a forged or malformed token: HTTP 401 invalid_token, the token never echoed', async () => {
    const forged = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl'
    const res = await initialize({ authorization: `Bearer ${forged}` })
    assert.equal(res.status, 401)
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/)
    assert.ok(!(await res.text()).includes('c2lnbmF0dXJl'))
    const basic = await initialize({ authorization: 'Basic dXNlcjpwYXNz' })
    assert.equal(basic.status, 401)
    // A cookie is not a credential for /mcp (any page the browser visits could send it).
    const cookie = await initialize({ cookie: `micro_token=${tokens.admin}` })
    assert.equal(cookie.status, 401)
  })

  for (const mode of ['legacy', { pin: '2026-07-28' }] as const) {
    const era = mode === 'legacy' ? '2025-11-25' : '2026-07-28'
    test(`rules and scopes per tool (${era}): allowed, 403 for a missing scope, audited`, async () => {
      const viewer = await connect(tokens.viewer, mode)
      const writer = await connect(tokens.writer, mode)
      try {
        const hello = await viewer.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'V' } })
        assert.deepEqual(hello.structuredContent, { message: 'Hello V' })
        const denied = await viewer.callTool({ name: 'greeter_Greeter_Order', arguments: { item: 'tea' } })
        assert.equal(denied.isError, true)
        const error = denied.structuredContent as { code: number; detail: string }
        assert.equal(error.code, 403)
        const ordered = await writer.callTool({ name: 'greeter_Greeter_Order', arguments: { item: 'tea' } })
        assert.deepEqual(ordered.structuredContent, { ordered: 'tea' })
        const echo = await writer.callTool({ name: 'greeter_Greeter_Echo', arguments: {} })
        assert.equal(
          (echo.structuredContent as { bearer: boolean }).bearer,
          true,
          'the service gets the bearer',
        )
      } finally {
        await viewer.close()
        await writer.close()
      }
      const records = audit.recent()
      const deniedRecord = records.findLast((r) => r.tool === 'greeter_Greeter_Order' && !r.allowed)
      assert.ok(deniedRecord, 'the refusal is audited')
      assert.equal(deniedRecord.account, 'micro/viewer')
      assert.match(deniedRecord.reason ?? '', /^403 /)
      assert.deepEqual(deniedRecord.scopes, ['orders:write'])
      assert.equal(deniedRecord.transport, 'http')
      assert.equal(deniedRecord.client, 'auth-test 1.0.0')
      const allowedRecord = records.findLast((r) => r.tool === 'greeter_Greeter_Order' && r.allowed)
      assert.equal(allowedRecord?.account, 'micro/writer')
      assert.equal(allowedRecord?.verified, true)
      assert.equal(allowedRecord?.service, 'greeter')
      assert.equal(allowedRecord?.endpoint, 'Greeter.Order')
      assert.ok((allowedRecord?.durationMs ?? -1) >= 0)
      assert.match(allowedRecord?.traceId ?? '', /^[0-9a-f]{32}$/)
      const text = JSON.stringify(records)
      for (const token of Object.values(tokens)) assert.ok(!text.includes(token), 'no token in the audit')
    })
  }

  test('an admin may call everything, a service error is still audited as allowed with its error', async () => {
    const admin = await connect(tokens.admin)
    try {
      const refused = await admin.callTool({ name: 'greeter_Greeter_Refuse', arguments: {} })
      assert.equal(refused.isError, true)
    } finally {
      await admin.close()
    }
    const record = audit.recent().findLast((r) => r.tool === 'greeter_Greeter_Refuse')
    assert.equal(record?.allowed, true)
    assert.deepEqual(record?.error, { id: 'greeter', code: 409, detail: 'not yours' })
    assert.equal(record?.account, 'micro/admin')
  })
})
