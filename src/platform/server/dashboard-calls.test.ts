import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { api } from '../../../test/support/dashboard/http.js'
import { waitUntil } from '../../../test/support/runtime.js'
import { Client } from '../../client/client.js'
import type { SpanRecord as DashboardSpan } from '../../dashboard/api/types.js'
import { badRequest } from '../../errors/errors.js'
import { createLogger } from '../../logger/logger.js'
import { RegistryCache } from '../../registry/cache.js'
import { MemoryRegistry } from '../../registry/memory.js'
import { sharedMemoryRegistry } from '../../registry/memory-shared.js'
import { createSelector } from '../../selector/from-name.js'
import type { Context } from '../../server/context.js'
import { createService, type Service } from '../../service/service.js'
import { MicroTransport } from '../../transport/micro-transport.js'
import { MemoryTraceStore } from '../traces/memory-store.js'
import { DASHBOARD_SERVICE, tracedCalls } from './dashboard-calls.js'
import { startServer } from './server.js'

const silent = createLogger({ level: 'silent' })
const hex = (byte: string, n: number) => byte.repeat(n)

describe('tracedCalls: the explorer call as a client span', () => {
  const registry = new MemoryRegistry()
  let service: Service
  let client: Client
  before(async () => {
    service = createService({ name: 'probe', registry, logger: silent, handleSignals: false })
    service.handle(
      {
        // The traceparent the service was called with: its server span's parent.
        Seen: async (_req: unknown, ctx: Context) => ({ traceparent: ctx.metadata.traceparent }),
        Bad: async () => {
          throw badRequest('probe', 'no such thing')
        },
        async *Count(input: AsyncIterable<{ to: number }>) {
          for await (const req of input) for (let i = 1; i <= req.to; i++) yield { i }
        },
      },
      { name: 'Probe' },
    )
    await service.run()
    client = new Client({
      lookup: new RegistryCache(registry),
      transport: new MicroTransport(),
      selector: createSelector(),
      local: false,
      retry: { retries: 0 },
    })
  })
  after(async () => {
    await client.close()
    await service.stop()
    await registry.close()
  })
  const calls = (store: MemoryTraceStore) => tracedCalls(client, store)

  test("the span the explorer's traceparent names: a root, with the RPC attributes", async () => {
    const store = new MemoryTraceStore()
    const traceparent = `00-${hex('a1', 16)}-${hex('b2', 8)}-01`
    const reply = (await calls(store).call('probe', 'Probe.Seen', {}, { metadata: { traceparent } })) as {
      traceparent: string
    }
    assert.equal(reply.traceparent, traceparent, 'the service is called as the child of that span')
    const spans = store.get(hex('a1', 16))?.spans ?? []
    assert.equal(spans.length, 1)
    const span = spans[0]
    assert.equal(span?.spanId, hex('b2', 8))
    assert.equal(span?.parentSpanId, undefined)
    assert.equal(span?.kind, 'client')
    assert.equal(span?.service, DASHBOARD_SERVICE)
    assert.equal(span?.name, 'Probe.Seen')
    assert.deepEqual(span?.attributes, {
      'rpc.system.name': 'micro',
      'rpc.method': 'Probe.Seen',
      'server.address': 'probe',
      'rpc.response.status_code': '200',
    })
    assert.notEqual(span?.status, 'error')
    store.close()
  })

  test('a failed call is an error span with its code; a call with no traceparent starts a trace', async () => {
    const store = new MemoryTraceStore()
    await assert.rejects(calls(store).call('probe', 'Probe.Bad', {}, {}), /no such thing/)
    const [summary] = store.list()
    assert.ok(summary)
    const span = store.get(summary.traceId)?.spans[0]
    assert.equal(span?.status, 'error')
    assert.equal(span?.statusMessage, 'no such thing')
    assert.equal(span?.attributes['rpc.response.status_code'], '400')
    assert.equal(span?.attributes['error.type'], '400')
    assert.equal(span?.events[0]?.name, 'exception')
    store.close()
  })

  test('a traceparent naming a span already held: the call is a new span under it', async () => {
    const store = new MemoryTraceStore()
    const traceId = hex('c3', 16)
    store.add([
      {
        traceId,
        spanId: hex('d4', 8),
        name: 'earlier',
        kind: 'server',
        service: 'elsewhere',
        start: Date.now() - 10,
        duration: 5,
        status: 'unset',
        attributes: {},
        events: [],
        links: [],
        resource: {},
      },
    ])
    const reply = (await calls(store).call(
      'probe',
      'Probe.Seen',
      {},
      { metadata: { traceparent: `00-${traceId}-${hex('d4', 8)}-01` } },
    )) as { traceparent: string }
    const span = store.get(traceId)?.spans.find((s) => s.service === DASHBOARD_SERVICE)
    assert.equal(span?.parentSpanId, hex('d4', 8))
    assert.notEqual(span?.spanId, hex('d4', 8))
    assert.equal(reply.traceparent, `00-${traceId}-${span?.spanId}-01`)
    store.close()
  })

  test('an unsampled traceparent records nothing', async () => {
    const store = new MemoryTraceStore()
    await calls(store).call(
      'probe',
      'Probe.Seen',
      {},
      { metadata: { traceparent: `00-${hex('e5', 16)}-${hex('f6', 8)}-00` } },
    )
    assert.equal(store.list().length, 0)
    store.close()
  })

  test('a stream is one span, from open to its last reply', async () => {
    const store = new MemoryTraceStore()
    const traceparent = `00-${hex('17', 16)}-${hex('28', 8)}-01`
    const stream = calls(store).stream('probe', 'Probe.Count', { metadata: { traceparent } })
    await stream.send({ to: 3 })
    await stream.closeSend()
    const replies: unknown[] = []
    for await (const reply of stream) replies.push(reply)
    assert.deepEqual(replies, [{ i: 1 }, { i: 2 }, { i: 3 }])
    const spans = store.get(hex('17', 16))?.spans ?? []
    assert.equal(spans.length, 1)
    assert.equal(spans[0]?.attributes['micro.stream'], true)
    assert.equal(spans[0]?.attributes['rpc.response.status_code'], '200')
    store.close()
  })
})

test("micro server: an explorer call's trace is the dashboard's client span and the service's server span under it", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'micro-dashcalls-'))
  const server = await startServer({
    address: '127.0.0.1:0',
    platformAddress: '127.0.0.1:0',
    auth: false,
    runtimeDir: join(dir, 'runtime'),
    authDir: join(dir, 'auth'),
    logger: silent,
    env: { MICRO_REGISTRY: 'memory', MICRO_STORE: 'memory', MICRO_EVENTS: 'memory', MICRO_BROKER: 'memory' },
  })
  // A service exporting its spans to the server's OTLP receiver, as services under micro server do.
  const service = createService({
    name: 'traced',
    registry: sharedMemoryRegistry(),
    logger: silent,
    handleSignals: false,
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://${server.address}` },
  })
  service.handle({ Hello: async () => ({ ok: true }) }, { name: 'Traced' })
  await service.run()
  const url = `http://${server.address}`
  try {
    const call = await api(url, 'POST', '/call', { service: 'traced', endpoint: 'Traced.Hello' })
    assert.equal(call.status, 200, JSON.stringify(call.body))
    const traceId = call.headers.get('micro-trace-id') as string
    const spans = await waitUntil(
      async () => {
        const res = await api(url, 'GET', `/traces/${traceId}`)
        const got = res.status === 200 ? (res.body as { spans: DashboardSpan[] }).spans : []
        return got.length >= 2 ? got : undefined
      },
      'the server span',
      30_000,
    )
    assert.equal(spans.length, 2)
    const client = spans.find((s) => s.kind === 'client')
    const served = spans.find((s) => s.kind === 'server')
    assert.equal(client?.service, 'micro.dashboard')
    assert.equal(client?.parentSpanId, undefined)
    assert.equal(served?.service, 'traced')
    assert.equal(served?.parentSpanId, client?.spanId)
  } finally {
    await service.stop()
    await server.close()
    await rm(dir, { recursive: true, force: true })
  }
})
