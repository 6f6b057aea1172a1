import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import * as otel from '@opentelemetry/api'
import { clientSpec, defineService, rpcHandler } from '../../definition/index.js'
import { MemoryRegistry } from '../../registry/memory.js'
import type { Context } from '../../server/context.js'
import { testService } from '../../testing/harness.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'
const INBOUND = `00-${TRACE}-${PARENT}-01`

interface Echo {
  Seen(req: unknown): Promise<{ traceparent: string | undefined }>
}

/** `echo` answers with the traceparent it received; `front` calls it from rpc, http and a subscription. */
const echo = defineService({
  rpc: () =>
    rpcHandler(
      { Seen: async (_req: unknown, ctx: Context) => ({ traceparent: ctx.metadata.traceparent }) },
      { name: 'Echo' },
    ),
})

const front = defineService({
  clients: { echo: clientSpec<Echo>() },
  rpc: ({ clients, features, broker }) =>
    rpcHandler(
      {
        // Passes its ctx on: the usual way.
        Forward: async (_req: unknown, ctx: Context) => ({
          inside: features.tracing?.traceId(),
          ...(await clients.echo.Seen({}, { context: ctx })),
        }),
        // Does not pass ctx: the current span still flows through AsyncLocalStorage.
        Implicit: async () => clients.echo.Seen({}),
        Publish: async () => {
          await broker.publish('traced', { body: new Uint8Array([1]) })
          return { traceparent: features.tracing?.traceparent() }
        },
      },
      { name: 'Front' },
    ),
  http:
    ({ clients }) =>
    async () =>
      Response.json(await clients.echo.Seen({})),
})

async function pair() {
  const registry = new MemoryRegistry()
  const namespace = `trace-${Math.random().toString(16).slice(2)}`
  const features = { tracing: true }
  const e = await testService(echo, {
    config: { name: 'echo', version: '1.0.0', types: ['rpc'] },
    registry,
    namespace,
    features,
  })
  const f = await testService(front, {
    config: { name: 'front', version: '1.0.0', types: ['rpc', 'http'] },
    registry,
    namespace,
    features,
  })
  return {
    e,
    f,
    async stop() {
      await f.stop()
      await e.stop()
      await registry.close()
    },
  }
}

describe('traceparent', () => {
  test('parses and formats W3C trace context', () => {
    assert.deepEqual(parseTraceparent(INBOUND, 'vendor=1'), {
      traceId: TRACE,
      spanId: PARENT,
      flags: 1,
      state: 'vendor=1',
    })
    assert.equal(formatTraceparent({ traceId: TRACE, spanId: PARENT, flags: 1 }), INBOUND)
    assert.equal(parseTraceparent(` ${INBOUND.toUpperCase()} `)?.traceId, TRACE)
    assert.equal(parseTraceparent(`01-${TRACE}-${PARENT}-00-future`)?.flags, 0)
  })

  test('refuses malformed values, so the receiver starts a new trace', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `ff-${TRACE}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE}-${PARENT}-01-extra`,
      `00-${TRACE.slice(1)}-${PARENT}-01`,
    ]) {
      assert.equal(parseTraceparent(bad), undefined, String(bad))
    }
  })
})

describe('tracing feature', () => {
  test('an inbound traceparent is continued into the calls the handler makes', async () => {
    const { f, stop } = await pair()
    try {
      const out = await f.call<{ inside: string; traceparent: string }>(
        'Front.Forward',
        {},
        { metadata: { traceparent: INBOUND } },
      )
      assert.equal(out.inside, TRACE)
      const sent = parseTraceparent(out.traceparent)
      assert.equal(sent?.traceId, TRACE)
      assert.notEqual(sent?.spanId, PARENT, 'the outgoing call is a child span')
      const implicit = await f.call<{ traceparent: string }>(
        'Front.Implicit',
        {},
        { metadata: { traceparent: INBOUND } },
      )
      assert.equal(parseTraceparent(implicit.traceparent)?.traceId, TRACE)
    } finally {
      await stop()
    }
  })

  test('without an inbound context a new trace starts and is carried on', async () => {
    const { f, stop } = await pair()
    try {
      const a = await f.call<{ inside: string; traceparent: string }>('Front.Forward')
      assert.match(a.inside, /^[0-9a-f]{32}$/)
      assert.equal(parseTraceparent(a.traceparent)?.traceId, a.inside)
      const b = await f.call<{ inside: string }>('Front.Forward')
      assert.notEqual(b.inside, a.inside, 'each request is its own trace')
    } finally {
      await stop()
    }
  })

  test('an HTTP request with traceparent is continued into the calls its handler makes', async () => {
    const { f, stop } = await pair()
    try {
      const res = await f.http('GET', '/', undefined, { headers: { traceparent: INBOUND } })
      assert.equal(parseTraceparent((res.body as { traceparent: string }).traceparent)?.traceId, TRACE)
    } finally {
      await stop()
    }
  })

  test('publishes carry the trace context to the subscriber', async () => {
    const { f, stop } = await pair()
    try {
      const received: string[] = []
      await f.broker.subscribe('traced', (m) => void received.push(m.headers.traceparent as string))
      const out = await f.call<{ traceparent: string }>(
        'Front.Publish',
        {},
        { metadata: { traceparent: INBOUND } },
      )
      const deadline = Date.now() + 2000
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
      assert.equal(parseTraceparent(received[0])?.traceId, TRACE)
      assert.equal(parseTraceparent(out.traceparent)?.traceId, TRACE)
    } finally {
      await stop()
    }
  })

  describe('with an OpenTelemetry SDK registered', () => {
    const spans: {
      name: string
      kind: otel.SpanKind
      traceId: string
      parent: string | undefined
      ended: boolean
    }[] = []
    after(() => otel.trace.disable())

    test('real spans are made: server and client, parented across services', async () => {
      otel.trace.setGlobalTracerProvider(recordingProvider(spans))
      const { f, stop } = await pair()
      try {
        await f.call('Front.Forward', {}, { metadata: { traceparent: INBOUND } })
      } finally {
        await stop()
      }
      const names = spans.map((s) => `${s.name}:${otel.SpanKind[s.kind]}`)
      assert.deepEqual(names, ['Front.Forward:SERVER', 'Echo.Seen:CLIENT', 'Echo.Seen:SERVER'])
      assert.ok(spans.every((s) => s.traceId === TRACE && s.ended))
      const [server, outbound, remote] = spans
      assert.equal(server?.parent, PARENT)
      assert.equal(outbound?.parent, spanIdOf(server))
      assert.equal(remote?.parent, spanIdOf(outbound))
    })
  })
})

const ids = new WeakMap<object, string>()
function spanIdOf(record: object | undefined): string | undefined {
  return record ? ids.get(record) : undefined
}

/** A minimal TracerProvider that records spans with their parent, as an SDK would. */
function recordingProvider(
  out: { name: string; kind: otel.SpanKind; traceId: string; parent: string | undefined; ended: boolean }[],
): otel.TracerProvider {
  let next = 1
  const tracer: otel.Tracer = {
    startSpan(name, options = {}, context = otel.context.active()) {
      const parent = otel.trace.getSpanContext(context)
      const spanId = (next++).toString(16).padStart(16, '0')
      const spanContext: otel.SpanContext = {
        traceId: parent?.traceId ?? '1'.repeat(32),
        spanId,
        traceFlags: otel.TraceFlags.SAMPLED,
      }
      const record = {
        name,
        kind: options.kind ?? otel.SpanKind.INTERNAL,
        traceId: spanContext.traceId,
        parent: parent?.spanId,
        ended: false,
      }
      ids.set(record, spanId)
      out.push(record)
      const span: otel.Span = {
        spanContext: () => spanContext,
        setAttribute: () => span,
        setAttributes: () => span,
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: () => span,
        updateName: () => span,
        end: () => {
          record.ended = true
        },
        isRecording: () => true,
        recordException: () => {},
      }
      return span
    },
    startActiveSpan: (() => {
      throw new Error('not used')
    }) as otel.Tracer['startActiveSpan'],
  }
  return { getTracer: () => tracer }
}
