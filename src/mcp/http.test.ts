import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { type McpWorld, startMcpWorld } from '../../test/support/mcp.js'

// The official SDK's client over Streamable HTTP, in both protocol eras, against real
// services: the 2025-11-25 handshake (sessions) and the stateless 2026-07-28 revision.

let world: McpWorld
before(async () => {
  world = await startMcpWorld({ engine: { rateLimits: { default: false } } })
})
after(async () => {
  await world.close()
})

async function connect(mode: 'legacy' | '2026-07-28'): Promise<Client> {
  const client = new Client(
    { name: 'micro-test', version: '1.0.0' },
    { versionNegotiation: { mode: mode === 'legacy' ? 'legacy' : { pin: mode } } },
  )
  await client.connect(new StreamableHTTPClientTransport(new URL(world.url)))
  return client
}

for (const mode of ['legacy', '2026-07-28'] as const) {
  describe(`Streamable HTTP, ${mode === 'legacy' ? '2025-11-25 (sessions)' : '2026-07-28 (stateless)'}`, () => {
    let client: Client
    before(async () => {
      client = await connect(mode)
    })
    after(async () => {
      await client.close()
    })

    test('the protocol version is the one asked for', () => {
      assert.equal(client.getNegotiatedProtocolVersion(), mode === 'legacy' ? '2025-11-25' : '2026-07-28')
    })

    test('tools/list: every unary endpoint, named service_Handler_Method, with schemas and hints', async () => {
      const { tools } = await client.listTools()
      const names = tools.map((t) => t.name)
      assert.deepEqual(names, [
        'greeter_Greeter_Echo',
        'greeter_Greeter_Hello',
        'greeter_Greeter_Names',
        'greeter_Greeter_Order',
        'greeter_Greeter_Refuse',
        'greeter_Greeter_Wipe',
      ])
      const hello = tools.find((t) => t.name === 'greeter_Greeter_Hello')
      assert.ok(hello)
      assert.equal(hello.description, 'Greets someone by name.')
      assert.equal(hello.inputSchema.type, 'object')
      assert.deepEqual(hello.inputSchema.required, ['name'])
      assert.deepEqual((hello.inputSchema as { examples?: unknown }).examples, [{ name: 'Alice' }])
      assert.equal(hello.outputSchema?.type, 'object')
      assert.deepEqual(hello.annotations, {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
      })
      const wipe = tools.find((t) => t.name === 'greeter_Greeter_Wipe')
      assert.deepEqual(wipe?.annotations, {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
      })
      const order = tools.find((t) => t.name === 'greeter_Greeter_Order')
      assert.match(order?.description ?? '', /Needs one of the scopes: orders:write/)
      assert.equal(order?.annotations?.destructiveHint, false)
    })

    test('tools/call: the reply as structuredContent and as JSON text', async () => {
      const result = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'Ada' } })
      assert.equal(result.isError, undefined)
      assert.deepEqual(result.structuredContent, { message: 'Hello Ada' })
      assert.deepEqual(result.content, [{ type: 'text', text: '{"message":"Hello Ada"}' }])
    })

    test('a reply that is not an object still arrives (wrapped as {result} on 2025-11-25)', async () => {
      const result = await client.callTool({ name: 'greeter_Greeter_Names', arguments: {} })
      assert.equal(result.isError, undefined)
      const text = (result.content as { text: string }[])[0]?.text
      assert.equal(text, '["ann","bob"]')
    })

    test('a service error is an isError result carrying the error JSON', async () => {
      const result = await client.callTool({ name: 'greeter_Greeter_Refuse', arguments: {} })
      assert.equal(result.isError, true)
      const error = { id: 'greeter', code: 409, detail: 'not yours', status: 'Conflict' }
      assert.deepEqual(result.structuredContent, error)
      assert.deepEqual(JSON.parse((result.content as { text: string }[])[0]?.text ?? ''), error)
    })

    test('a request the schema refuses is an isError 400 naming the field', async () => {
      const result = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 7 } })
      assert.equal(result.isError, true)
      const error = result.structuredContent as { code: number; detail: string }
      assert.equal(error.code, 400)
      assert.match(error.detail, /name/)
    })

    test('the call carries the trace context and the tool name to the service', async () => {
      const result = await client.callTool({ name: 'greeter_Greeter_Echo', arguments: { a: 1 } })
      const echo = result.structuredContent as { request: unknown; traceparent?: string; tool?: string }
      assert.deepEqual(echo.request, { a: 1 })
      assert.match(echo.traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      assert.equal(echo.tool, 'greeter_Greeter_Echo')
    })

    test('an unknown tool is a JSON-RPC invalid-params error, and the server keeps serving', async () => {
      await assert.rejects(
        client.callTool({ name: 'nope_Nope_Nope', arguments: {} }),
        /Unknown tool: nope_Nope_Nope/,
      )
      const again = await client.callTool({ name: 'greeter_Greeter_Hello', arguments: { name: 'B' } })
      assert.deepEqual(again.structuredContent, { message: 'Hello B' })
    })
  })
}
