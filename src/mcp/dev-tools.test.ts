import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import * as otel from '@opentelemetry/api'
import { startPlatform, type TestPlatform } from '../../test/support/auth-platform.js'
import { recordingProvider } from '../../test/support/dashboard/traces.js'
import { type McpWorld, startMcpWorld } from '../../test/support/mcp.js'
import { authorityGatewayAuthorizer } from '../auth/gateway.js'
import { traceSource } from '../platform/server/dashboard-traces.js'
import { MemoryTraceStore } from '../platform/traces/memory-store.js'
import { MemoryStore } from '../store/memory.js'
import { authorizerAccess } from './access.js'
import { AuditRing } from './audit.js'

// OpenTelemetry spans of tool calls, recorded by a real in-memory trace store fed through the
// OpenTelemetry API, and read back by the developer tools get_traces / get_trace_spans (over
// HTTP, as an administrator).

const store = new MemoryTraceStore()
const traces = traceSource(store)
const audit = new AuditRing(50)
let platform: TestPlatform
let world: McpWorld
let admin: string

before(async () => {
  otel.trace.setGlobalTracerProvider(recordingProvider(store))
  platform = await startPlatform()
  admin = (await platform.bootstrapAdmin()).token.accessToken
  world = await startMcpWorld({
    engine: {
      access: authorizerAccess(authorityGatewayAuthorizer(platform.authority)),
      audit,
      dev: { traces, store: new MemoryStore() },
    },
  })
})
after(async () => {
  await world?.close()
  await platform?.close()
  otel.trace.disable()
})

describe('spans and the trace tools', () => {
  test('a tool call is a server span; its context reaches the service; get_traces finds it', async () => {
    const client = new Client({ name: 'traces', version: '1' })
    const headers = { authorization: `Bearer ${admin}` }
    await client.connect(new StreamableHTTPClientTransport(new URL(world.url), { requestInit: { headers } }))
    try {
      const echo = await client.callTool({ name: 'greeter_Greeter_Echo', arguments: {} })
      const traceparent = (echo.structuredContent as { traceparent: string }).traceparent
      const [, traceId, spanId] = traceparent.split('-')
      const record = audit.recent().findLast((r) => r.tool === 'greeter_Greeter_Echo')
      assert.equal(record?.traceId, traceId, 'the audit names the trace')
      const spans = await traces.get(traceId as string)
      const span = spans?.find((s) => s.name === 'tools/call greeter_Greeter_Echo')
      assert.ok(span, 'the tool call span')
      assert.equal(span.spanId, spanId, "the service's parent is the tool call's span")
      assert.equal(span.kind, 'server')
      assert.equal(span.attributes['gen_ai.tool.name'], 'greeter_Greeter_Echo')
      assert.equal(span.attributes['micro.endpoint'], 'Greeter.Echo')
      const refused = await client.callTool({ name: 'greeter_Greeter_Refuse', arguments: {} })
      assert.equal(refused.isError, true)

      const listed = await client.callTool({
        name: 'get_traces',
        arguments: { endpoint: 'tools/call greeter_Greeter_Echo', limit: 5 },
      })
      const found = (listed.structuredContent as { traces: { traceId: string }[] }).traces
      assert.ok(
        found.some((t) => t.traceId === traceId),
        'get_traces lists it',
      )
      const got = await client.callTool({ name: 'get_trace_spans', arguments: { traceId } })
      const names = (got.structuredContent as { spans: { name: string }[] }).spans.map((s) => s.name)
      assert.ok(names.includes('tools/call greeter_Greeter_Echo'))
      const bad = await client.callTool({ name: 'get_trace_spans', arguments: { traceId: 'x' } })
      assert.equal((bad.structuredContent as { code: number }).code, 400)
      const unknown = await client.callTool({
        name: 'get_trace_spans',
        arguments: { traceId: '0'.repeat(32) },
      })
      assert.equal((unknown.structuredContent as { code: number }).code, 404)
    } finally {
      await client.close()
    }
  })

  test('a client traceparent in _meta is continued', async () => {
    const client = new Client({ name: 'traces', version: '1' })
    const headers = { authorization: `Bearer ${admin}` }
    await client.connect(new StreamableHTTPClientTransport(new URL(world.url), { requestInit: { headers } }))
    try {
      const parent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`
      const echo = await client.callTool({
        name: 'greeter_Greeter_Echo',
        arguments: {},
        _meta: { traceparent: parent },
      })
      const traceparent = (echo.structuredContent as { traceparent: string }).traceparent
      assert.equal(traceparent.split('-')[1], 'ab'.repeat(16), 'same trace as the client')
      const spans = await traces.get('ab'.repeat(16))
      assert.equal(spans?.find((s) => s.name.startsWith('tools/call'))?.parentSpanId, 'cd'.repeat(8))
    } finally {
      await client.close()
    }
  })
})
