import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client'
import { type McpWorld, startMcpWorld, startService } from '../../test/support/mcp.js'
import { until } from '../../test/support/until.js'

// Tools follow the registry live: a service registering or leaving changes tools/list, and
// connected clients hear notifications/tools/list_changed (2025-11-25: on the session's GET
// stream; 2026-07-28: on subscriptions/listen), whichever era they speak.

class Extra {
  async Ping() {
    return { pong: true }
  }
}

let world: McpWorld
before(async () => {
  world = await startMcpWorld()
})
after(async () => {
  await world.close()
})

for (const mode of ['legacy', '2026-07-28'] as const) {
  describe(`tools/list_changed (${mode === 'legacy' ? '2025-11-25' : '2026-07-28'})`, () => {
    test('a service registering adds its tools; leaving removes them; the client hears both', async () => {
      const seen: string[][] = []
      const client = new Client(
        { name: 'micro-test', version: '1.0.0' },
        {
          versionNegotiation: { mode: mode === 'legacy' ? 'legacy' : { pin: mode } },
          listChanged: {
            tools: {
              debounceMs: 0,
              onChanged: (error: Error | null, tools: Tool[] | null) => {
                if (!error && tools) seen.push(tools.map((t) => t.name))
              },
            },
          },
        },
      )
      await client.connect(new StreamableHTTPClientTransport(new URL(world.url)))
      try {
        // The client's notification channel (GET stream or listen) is open once it answers a request.
        await client.listTools()
        const has = (names: string[] | undefined) => names?.includes('extra_Extra_Ping') ?? false
        const service = await startService(world.registry, 'extra', [new Extra()])
        let stopped = false
        try {
          await until(() => has(seen.at(-1)), 'list_changed with extra_Extra_Ping')
          const listed = await client.listTools()
          assert.ok(has(listed.tools.map((t) => t.name)))
          const called = await client.callTool({ name: 'extra_Extra_Ping', arguments: {} })
          assert.deepEqual(called.structuredContent, { pong: true })
          await service.stop()
          stopped = true
          await until(() => seen.length >= 2 && !has(seen.at(-1)), 'list_changed without extra_Extra_Ping')
          const gone = await client.listTools()
          assert.ok(!has(gone.tools.map((t) => t.name)))
          await assert.rejects(client.callTool({ name: 'extra_Extra_Ping', arguments: {} }), /Unknown tool/)
        } finally {
          if (!stopped) await service.stop()
        }
      } finally {
        await client.close()
      }
    })
  })
}
