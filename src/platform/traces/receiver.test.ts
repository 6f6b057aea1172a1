import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import * as otel from '@opentelemetry/api'
import { exportWithSdk, startReceiver, under } from '../../../test/support/traces.js'
import { otlpProto } from './otlp-proto.js'

const LINKED_TRACE = '0af7651916cd43dd8448eb211c80319c'
const LINKED_SPAN = 'b7ad6b7169203331'

/** One server span with everything OTLP can carry, and a client child. */
function richTrace(tracer: otel.Tracer): void {
  const root = tracer.startSpan('Orders.Create', {
    kind: otel.SpanKind.SERVER,
    attributes: {
      'rpc.method': 'Orders.Create',
      text: 'x',
      count: 3,
      ratio: 1.5,
      ok: true,
      tags: ['a', 'b'],
    },
    links: [
      {
        context: { traceId: LINKED_TRACE, spanId: LINKED_SPAN, traceFlags: 1 },
        attributes: { why: 'batch' },
      },
    ],
  })
  root.addEvent('validated', { fields: 2 })
  root.setStatus({ code: otel.SpanStatusCode.ERROR, message: 'out of stock' })
  const child = tracer.startSpan('Stock.Reserve', { kind: otel.SpanKind.CLIENT }, under(root))
  child.end()
  root.end()
}

function checkRichTrace(store: Awaited<ReturnType<typeof startReceiver>>['store']): void {
  const [summary] = store.list()
  assert.ok(summary, 'a trace was stored')
  assert.equal(summary.rootName, 'Orders.Create')
  assert.equal(summary.rootService, 'orders')
  assert.equal(summary.spanCount, 2)
  assert.equal(summary.status, 'error')
  const trace = store.get(summary.traceId)
  assert.ok(trace)
  const [root, child] = trace.spans
  assert.ok(root && child)
  assert.equal(root.kind, 'server')
  assert.equal(root.service, 'orders')
  assert.deepEqual(root.resource, { 'service.version': '1.2.3' })
  assert.equal(root.scope, 'test-sdk')
  assert.deepEqual(
    { ...root.attributes },
    { 'rpc.method': 'Orders.Create', text: 'x', count: 3, ratio: 1.5, ok: true, tags: ['a', 'b'] },
  )
  assert.equal(root.status, 'error')
  assert.equal(root.statusMessage, 'out of stock')
  assert.equal(root.events[0]?.name, 'validated')
  assert.deepEqual(root.events[0]?.attributes, { fields: 2 })
  assert.ok((root.events[0]?.time ?? 0) >= root.start)
  assert.deepEqual(root.links, [{ traceId: LINKED_TRACE, spanId: LINKED_SPAN, attributes: { why: 'batch' } }])
  assert.equal(child.kind, 'client')
  assert.equal(child.parentSpanId, root.spanId)
  assert.equal(child.depth, 1)
  assert.ok(root.duration >= 0 && child.duration >= 0)
  assert.match(root.traceId, /^[0-9a-f]{32}$/)
}

describe('OTLP/HTTP receiver', () => {
  for (const format of ['json', 'protobuf'] as const) {
    for (const compression of ['none', 'gzip'] as const) {
      test(`takes ${format}${compression === 'gzip' ? ' gzipped' : ''} from the OpenTelemetry SDK's exporter`, async () => {
        const receiver = await startReceiver()
        try {
          await exportWithSdk(receiver.url, format, 'orders', richTrace, compression)
          checkRichTrace(receiver.store)
        } finally {
          await receiver.close()
        }
      })
    }
  }

  test('answers only its own path', async () => {
    const receiver = await startReceiver()
    try {
      const res = await fetch(`${receiver.origin}/v1/metrics`, { method: 'POST', body: '{}' })
      assert.equal(res.status, 404, 'left to the next handler')
      const ok = await post(`${receiver.url}/`, '{"resourceSpans":[]}', 'application/json')
      assert.equal(ok.status, 200, 'a trailing slash is the same path')
    } finally {
      await receiver.close()
    }
  })
})

describe('OTLP/HTTP receiver: bad input', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  before(async () => {
    receiver = await startReceiver({}, { maxBodyBytes: 1024 * 1024, maxDecodedBytes: 4 * 1024 * 1024 })
  })
  after(() => receiver.close())

  /** After every attack, a good export still lands. */
  async function stillServes(): Promise<void> {
    const before = receiver.store.stats().spans
    await exportWithSdk(receiver.url, 'json', 'after', (t) => t.startSpan('fine').end())
    assert.equal(receiver.store.stats().spans, before + 1, 'the next good request is served')
  }

  const json = 'application/json'
  const proto = 'application/x-protobuf'
  const cases: { name: string; send: () => Promise<Response>; status: number; says: RegExp }[] = [
    { name: 'GET', send: () => fetch(receiver.url), status: 405, says: /POST/ },
    {
      name: 'text/plain',
      send: () => post(receiver.url, '{}', 'text/plain'),
      status: 415,
      says: /application\/json/,
    },
    {
      name: 'brotli',
      send: () => post(receiver.url, '{}', json, { 'content-encoding': 'br' }),
      status: 415,
      says: /gzip/,
    },
    {
      name: 'garbage JSON',
      send: () => post(receiver.url, '{"resourceSpans": [', json),
      status: 400,
      says: /JSON/,
    },
    {
      name: 'a JSON list',
      send: () => post(receiver.url, '[1,2]', json),
      status: 400,
      says: /ExportTraceService/,
    },
    {
      name: 'resourceSpans not a list',
      send: () => post(receiver.url, '{"resourceSpans":5}', json),
      status: 400,
      says: /ExportTraceService/,
    },
    {
      name: 'JSON nested 10,000 deep',
      send: () => post(receiver.url, `${'['.repeat(10_000)}${']'.repeat(10_000)}`, json),
      status: 400,
      says: /deeper/,
    },
    {
      name: 'garbage protobuf',
      send: () => post(receiver.url, Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x01]), proto),
      status: 400,
      says: /protobuf/,
    },
    {
      name: 'protobuf values nested 150,000 deep',
      send: () => post(receiver.url, deepProtobuf(150_000), proto),
      status: 400,
      says: /protobuf/,
    },
    {
      name: 'a declared body over the limit',
      send: () => post(receiver.url, Buffer.alloc(1536 * 1024, 0x20), json),
      status: 413,
      says: /limit/,
    },
    {
      name: 'a chunked body over the limit',
      send: () => post(receiver.url, chunked(1536 * 1024), json),
      status: 413,
      says: /limit/,
    },
    {
      name: 'a gzip bomb (64 MiB of spaces)',
      send: () => post(receiver.url, gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)), json, gzip),
      status: 413,
      says: /inflates/,
    },
    {
      name: 'a body that is not gzip',
      send: () => post(receiver.url, Buffer.from('not gzip at all'), json, gzip),
      status: 400,
      says: /gzip/,
    },
  ]
  for (const c of cases) {
    test(`${c.name}: ${c.status}, nothing stored, the next request is served`, async () => {
      const before = receiver.store.stats().spans
      const res = await c.send()
      assert.equal(res.status, c.status)
      const type = res.headers.get('content-type') ?? ''
      const body = Buffer.from(await res.arrayBuffer())
      const message = type.includes('protobuf')
        ? await statusMessage(body)
        : JSON.parse(body.toString()).message
      assert.match(message, c.says)
      assert.equal(receiver.store.stats().spans, before)
      await stillServes()
    })
  }

  test('spans with bad ids or times are refused alone: a partial success', async () => {
    const good = otlpSpan({ name: 'good' })
    const body = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'mixed' } }] },
          scopeSpans: [
            {
              spans: [
                good,
                otlpSpan({ traceId: 'zz'.repeat(16) }),
                otlpSpan({ spanId: '00'.repeat(8) }),
                otlpSpan({ startTimeUnixNano: 'yesterday' }),
                otlpSpan({ parentSpanId: '123' }),
                'not a span',
              ],
            },
          ],
        },
      ],
    }
    const res = await post(receiver.url, JSON.stringify(body), json)
    assert.equal(res.status, 200)
    const reply = (await res.json()) as { partialSuccess: { rejectedSpans: string; errorMessage: string } }
    assert.equal(reply.partialSuccess.rejectedSpans, '5')
    assert.match(reply.partialSuccess.errorMessage, /traceId/)
    assert.equal(receiver.store.get(good.traceId)?.spans[0]?.name, 'good')
  })

  test('oversized spans are cut to the limits, not refused', async () => {
    const attributes = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, value: { stringValue: 'v' } }))
    attributes.unshift({ key: 'long', value: { stringValue: 'x'.repeat(20_000) } })
    attributes.unshift({ key: '__proto__', value: { stringValue: 'polluted' } })
    const span = otlpSpan({ name: 'n'.repeat(5000), attributes })
    const res = await post(receiver.url, JSON.stringify(envelope([span])), json)
    assert.equal(res.status, 200)
    const [stored] = receiver.store.get(span.traceId)?.spans ?? []
    assert.ok(stored)
    assert.equal(stored.name.length, 256)
    assert.equal(Object.keys(stored.attributes).length, 128)
    assert.equal((stored.attributes.long as string).length, 4096)
    assert.equal(Object.getPrototypeOf(stored.attributes), Object.prototype, 'no prototype pollution')
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

let sequence = 1
/** An OTLP/JSON span with valid defaults. */
function otlpSpan(fields: Record<string, unknown> = {}) {
  const n = (sequence++).toString(16)
  return {
    traceId: n.padStart(32, 'a'),
    spanId: n.padStart(16, 'b'),
    name: 'span',
    kind: 2,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000005000000',
    ...fields,
  } as { traceId: string; spanId: string } & Record<string, unknown>
}

function envelope(spans: unknown[]) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'x' } }] },
        scopeSpans: [{ spans }],
      },
    ],
  }
}

const gzip = { 'content-encoding': 'gzip' }

function post(
  url: string,
  body: string | Buffer | ReadableStream<Uint8Array>,
  type: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit & { duplex?: 'half' } = {
    method: 'POST',
    body,
    headers: { 'content-type': type, ...headers },
  }
  if (body instanceof ReadableStream) init.duplex = 'half'
  return fetch(url, init)
}

/** A chunked body (no Content-Length) of `size` bytes. */
function chunked(size: number): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close()
      controller.enqueue(new Uint8Array(8192).fill(0x20))
      sent += 8192
    },
  })
}

/**
 * An ExportTraceServiceRequest whose one attribute nests `depth` AnyValue/ArrayValue
 * levels: written outermost first, each level a tag and the length of what it holds.
 */
function deepProtobuf(depth: number): Buffer {
  const lengths: number[] = [0]
  for (let i = 1; i <= depth; i++) {
    const inner = lengths[i - 1] as number
    lengths.push(1 + varint(inner).length + inner)
  }
  const parts: Buffer[] = []
  // AnyValue.array_value = 5, ArrayValue.values = 1, alternating from the outside in.
  for (let i = depth; i >= 1; i--) {
    const field = (depth - i) % 2 === 0 ? 5 : 1
    parts.push(Buffer.from([(field << 3) | 2]), varint(lengths[i - 1] as number))
  }
  const value = Buffer.concat(parts)
  const keyValue = Buffer.concat([Buffer.from([0x0a, 1, 0x6b]), field(2, value)])
  const span = Buffer.concat([
    field(1, Buffer.alloc(16, 1)),
    field(2, Buffer.alloc(8, 1)),
    field(9, keyValue),
  ])
  return field(1, field(2, field(2, span)))
}

function field(number: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(number << 3) | 2]), varint(bytes.length), bytes])
}

function varint(n: number): Buffer {
  const out: number[] = []
  let v = n
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }
  out.push(v)
  return Buffer.from(out)
}

/** The message of a protobuf google.rpc.Status: field 2, the only string in it. */
async function statusMessage(body: Buffer): Promise<string> {
  await otlpProto()
  const at = body.indexOf(0x12)
  assert.ok(at >= 0, 'a Status with a message')
  return body.subarray(at + 2, at + 2 + (body[at + 1] as number)).toString()
}
