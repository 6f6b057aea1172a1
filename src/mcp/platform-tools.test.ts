import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import { type McpWorld, startMcpWorld } from '../../test/support/mcp.js'
import { until } from '../../test/support/until.js'
import type { LoginResult } from '../auth/authority.js'
import { authorityGatewayAuthorizer } from '../auth/gateway.js'
import { MemoryBroker } from '../broker/memory.js'
import { publish } from '../broker/publish.js'
import { MemoryStore } from '../store/memory.js'
import { authorizerAccess } from './access.js'

// The platform tools (list services, read the store, publish) over HTTP: off unless given,
// and then only for admins (a verified token holding `admin`); the auth database is never
// readable. Without a verifying access check they are refused to everyone.

let platform: TestPlatform
let world: McpWorld
let open: McpWorld
const store = new MemoryStore()
const broker = new MemoryBroker()
const tokens: Record<string, string> = {}

before(async () => {
  platform = await startPlatform({ mode: 'open' })
  tokens.admin = (await platform.bootstrapAdmin()).token.accessToken
  await platform.call('Accounts.Create', { id: 'dev', secret: 'dev-secret-12', scopes: ['*'] }, tokens.admin)
  tokens.dev = (
    await platform.call<LoginResult>('Auth.Login', { id: 'dev', secret: 'dev-secret-12' })
  ).token.accessToken
  await store.write('greeting', { text: 'hi' })
  await store.write('k', 'secret-ish', { namespace: 'micro', database: 'auth' })
  const publisher = { publish: (topic: string, message: unknown) => publish(broker, topic, message) }
  world = await startMcpWorld({
    engine: {
      access: authorizerAccess(authorityGatewayAuthorizer(platform.authority)),
      platform: { store, publisher },
    },
  })
  open = await startMcpWorld({ registry: world.registry, engine: { platform: { store, publisher } } })
})
after(async () => {
  await open?.close()
  await world?.close()
  await platform?.close()
  await broker.close()
  await store.close()
})

async function connect(url: string, token?: string) {
  const client = new Client({ name: 'platform-tools', version: '1' })
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
  return client
}

describe('platform tools', () => {
  test('an admin lists services, reads the store and publishes', async () => {
    const received: string[] = []
    await broker.subscribe('news', async (delivery) => {
      received.push(Buffer.from(delivery.body).toString())
    })
    const admin = await connect(world.url, tokens.admin)
    try {
      const names = (await admin.listTools()).tools.map((t) => t.name)
      for (const name of ['micro_registry_list', 'micro_store_read', 'micro_broker_publish'])
        assert.ok(names.includes(name))
      const listed = await admin.callTool({ name: 'micro_registry_list', arguments: {} })
      const services = (listed.structuredContent as { services: { name: string; endpoints: string[] }[] })
        .services
      assert.ok(services.find((s) => s.name === 'greeter')?.endpoints.includes('Greeter.Hello'))
      const record = await admin.callTool({ name: 'micro_store_read', arguments: { key: 'greeting' } })
      assert.deepEqual((record.structuredContent as { value: unknown }).value, { text: 'hi' })
      const auth = await admin.callTool({
        name: 'micro_store_read',
        arguments: { database: 'auth', key: 'k' },
      })
      assert.equal(auth.isError, true)
      assert.equal((auth.structuredContent as { code: number }).code, 403)
      const sent = await admin.callTool({
        name: 'micro_broker_publish',
        arguments: { topic: 'news', message: { n: 1 } },
      })
      assert.equal(sent.isError, undefined)
      await until(() => received.length === 1, 'the published message')
      assert.deepEqual(JSON.parse(received[0] as string), { n: 1 })
    } finally {
      await admin.close()
    }
  })

  test('an account without admin, or no token at all, is refused (open mode too)', async () => {
    const dev = await connect(world.url, tokens.dev)
    const anonymous = await connect(world.url)
    try {
      for (const client of [dev, anonymous]) {
        const result = await client.callTool({ name: 'micro_store_read', arguments: { key: 'greeting' } })
        assert.equal(result.isError, true)
        assert.ok([401, 403].includes((result.structuredContent as { code: number }).code))
      }
      const greeted = await anonymous.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'open' } })
      assert.deepEqual(
        greeted.structuredContent,
        { message: 'Hello open' },
        'endpoint tools stay open on loopback',
      )
    } finally {
      await dev.close()
      await anonymous.close()
    }
  })

  test('a server that verifies no tokens refuses them to everyone', async () => {
    const client = await connect(open.url, tokens.admin)
    try {
      const result = await client.callTool({ name: 'micro_registry_list', arguments: {} })
      assert.equal(result.isError, true)
      assert.match((result.structuredContent as { detail: string }).detail, /verifies no tokens/)
    } finally {
      await client.close()
    }
  })
})
