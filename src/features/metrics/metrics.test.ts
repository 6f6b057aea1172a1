import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { defineService, rpcHandler } from '../../definition/index.js'
import { prepare } from '../../definition/prepare.js'
import { ServiceRuntime } from '../../definition/runtime.js'
import { badRequest } from '../../errors/errors.js'
import { createLogger } from '../../logger/logger.js'
import { MemoryRegistry } from '../../registry/memory.js'
import { testService } from '../../testing/harness.js'
import { MetricsRegistry } from './registry.js'

/** The value of one sample line, found by its exact name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('metrics registry', () => {
  test("serves the service's metrics through prom-client, escaped, after the process metrics", async () => {
    const r = new MetricsRegistry()
    r.counter('jobs_total', 'Jobs done.\nAll of them.').inc({ queue: 'a"b\\c' }, 2)
    const g = r.gauge('temperature', 'Degrees.')
    g.set({}, 20.5)
    g.dec({}, 0.5)
    const h = r.histogram('latency_seconds', 'Latency.', [1, 0.1])
    h.observe({ op: 'x' }, 0.05)
    h.observe({ op: 'x' }, 0.5)
    h.observe({ op: 'x' }, 5)
    const text = await r.text()
    const lines = text.split('\n')
    for (const expected of [
      '# HELP jobs_total Jobs done.\\nAll of them.',
      '# TYPE jobs_total counter',
      'jobs_total{queue="a\\"b\\\\c"} 2',
      '# TYPE temperature gauge',
      'temperature 20',
      '# TYPE latency_seconds histogram',
      'latency_seconds_bucket{le="0.1",op="x"} 1',
      'latency_seconds_bucket{le="1",op="x"} 2',
      'latency_seconds_bucket{le="+Inf",op="x"} 3',
      'latency_seconds_sum{op="x"} 5.55',
      'latency_seconds_count{op="x"} 3',
    ])
      assert.ok(lines.includes(expected), `${expected} in\n${text}`)
    // prom-client's process metrics come first: CPU, memory, event loop, GC.
    for (const family of [
      'process_cpu_seconds_total counter',
      'process_resident_memory_bytes gauge',
      'nodejs_eventloop_lag_seconds gauge',
      'nodejs_gc_duration_seconds histogram',
      'nodejs_heap_size_used_bytes gauge',
    ])
      assert.ok(lines.indexOf(`# TYPE ${family}`) >= 0, `${family} in\n${text}`)
    assert.ok(
      lines.indexOf('# TYPE process_cpu_seconds_total counter') < lines.indexOf('# TYPE jobs_total counter'),
    )
    assert.equal(text.match(/^# TYPE process_cpu_seconds_total /gm)?.length, 1, 'one set per registry')
  })

  test('a metric keeps the label names declared or first used', async () => {
    const r = new MetricsRegistry()
    const declared = r.counter('declared_total', 'x', ['route'])
    const inferred = r.gauge('inferred', 'x')
    const plain = r.counter('plain_total', 'x')
    const before = await r.text()
    assert.match(before, /^plain_total 0$/m, 'a counter without labels reads 0 before its first update')
    assert.doesNotMatch(before, /^declared_total/m, 'no series of a labelled counter before its first update')
    declared.inc({ route: '/a' })
    inferred.set({ queue: 'q1', shard: 2 }, 7)
    inferred.inc({ queue: 'q1', shard: 2 })
    plain.inc()
    assert.throws(() => declared.inc({ other: 'x' }), /not included in initial labelset/)
    assert.throws(() => inferred.set({ zone: 'x' }, 1), /not included in initial labelset/)
    assert.throws(() => plain.inc({ late: 'x' }), /not included in initial labelset/)
    const after = await r.text()
    assert.match(after, /^declared_total\{route="\/a"\} 1$/m)
    assert.match(after, /^inferred\{queue="q1",shard="2"\} 8$/m)
    assert.match(after, /^plain_total 1$/m)
  })

  test('refuses bad names, a second type or other labels for one name, counters going down', () => {
    const r = new MetricsRegistry()
    assert.throws(() => r.counter('bad-name', 'x'), /bad-name is not a valid metric name/)
    assert.throws(
      () => r.counter('ok_total', 'x').inc({ 'bad-label': 1 }),
      /bad-label is not a valid label name/,
    )
    assert.throws(() => r.counter('reserved_total', 'x', ['__name']), /__name is not a valid label name/)
    assert.throws(() => r.histogram('h', 'x', [0.1, Number.NaN]), /bucket NaN is not a finite number/)
    assert.throws(() => r.histogram('h2', 'x', undefined, ['le']), /le is a reserved label/)
    const twice = r.counter('twice_total', 'x')
    assert.equal(r.counter('twice_total', 'x'), twice, 'the same name and type is the same counter')
    assert.throws(() => r.gauge('twice_total', 'x'), /already a counter/)
    r.gauge('labelled', 'x', ['a'])
    assert.throws(() => r.gauge('labelled', 'x', ['b']), /already has the labels a/)
    assert.throws(() => r.counter('c_total', 'x').inc({}, -1), /not possible to decrease/)
    assert.throws(() => r.gauge('process_cpu_seconds_total', 'x'), /already served by micro-ts/)
    assert.throws(() => r.gauge('nodejs_heap_size_used_bytes', 'x'), /already served by micro-ts/)
  })
})

let release: () => void = () => {}

const shop = defineService({
  rpc: () =>
    rpcHandler(
      {
        Ok: async () => 'ok',
        Bad: async () => {
          throw badRequest('shop', 'no')
        },
        Boom: async () => {
          throw new Error('boom')
        },
        Hold: () =>
          new Promise((r) => {
            release = () => r('held')
          }),
      },
      { name: 'Shop' },
    ),
  http: ({ features }) => {
    const sold = features.metrics?.counter('shop_sold_total', 'Items sold.')
    return () => {
      sold?.inc({ item: 'book' })
      return new Response('ok')
    }
  },
})

describe('metrics feature', () => {
  test('counts RPC requests by endpoint and code, with latency and in-flight', async () => {
    const t = await testService(shop, {
      config: { name: 'shop', version: '1.0.0', types: ['rpc'], features: { metrics: {} } },
    })
    try {
      await t.call('Shop.Ok')
      await t.call('Shop.Ok')
      await assert.rejects(t.call('Shop.Bad'))
      await assert.rejects(t.call('Shop.Boom'))
      const holding = t.call('Shop.Hold')
      const held = Date.now()
      const address = t.features.metrics?.address
      assert.match(address ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
      const during = await (await fetch(address as string)).text()
      assert.throws(
        () => t.features.metrics?.counter('micro_requests_total', 'mine'),
        /micro_requests_total is already served by micro-ts/,
      )
      const labels = (endpoint: string, code?: number) =>
        `{${code === undefined ? '' : `code="${code}",`}endpoint="${endpoint}",kind="rpc",service="shop"}`
      assert.equal(sample(during, `micro_requests_in_flight${labels('Shop.Hold')}`), 1)
      await new Promise((r) => setTimeout(r, 50))
      release()
      await holding
      const heldFor = (Date.now() - held) / 1000
      const res = await fetch(address as string)
      assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
      const text = await res.text()
      assert.equal(sample(text, `micro_requests_total${labels('Shop.Ok', 200)}`), 2)
      assert.equal(sample(text, `micro_requests_total${labels('Shop.Bad', 400)}`), 1)
      assert.equal(sample(text, `micro_requests_total${labels('Shop.Boom', 500)}`), 1)
      assert.equal(sample(text, `micro_request_duration_seconds_count${labels('Shop.Hold', 200)}`), 1)
      const sum = sample(text, `micro_request_duration_seconds_sum${labels('Shop.Hold', 200)}`) ?? 0
      assert.ok(sum >= 0.04 && sum <= heldFor + 0.01, `${sum} s for a call held ${heldFor} s`)
      assert.equal(sample(text, `micro_requests_in_flight${labels('Shop.Hold')}`), 0)
      assert.equal((await fetch(address?.replace('/metrics', '/other') as string)).status, 404)
    } finally {
      await t.stop()
    }
  })

  test('on the http kind: /metrics, requests by method and path with ids folded, custom metrics', async () => {
    const t = await testService(shop, {
      config: {
        name: 'shop',
        version: '1.0.0',
        types: ['http'],
        features: { metrics: {} },
        runtime: { http: { base_path: '/shop' } },
      },
    })
    try {
      await t.http('GET', '/shop/items/42')
      await t.http('GET', '/shop/items/7?x=1')
      await t.http('POST', '/shop/orders/0b4f6c1e-8d1a-4c36-9e0e-2f1d7f0d9c11/pay')
      assert.equal(t.features.metrics?.address, undefined)
      const text = (await t.http('GET', '/metrics')).text
      assert.equal(
        sample(
          text,
          'micro_requests_total{code="200",endpoint="GET /shop/items/:id",kind="http",service="shop"}',
        ),
        2,
      )
      assert.equal(
        sample(
          text,
          'micro_requests_total{code="200",endpoint="POST /shop/orders/:id/pay",kind="http",service="shop"}',
        ),
        1,
      )
      assert.equal(sample(text, 'shop_sold_total{item="book"}'), 3)
    } finally {
      await t.stop()
    }
  })

  test('a metrics port that is taken fails the start, naming the feature', async () => {
    const first = await testService(shop, {
      config: { name: 'shop', version: '1.0.0', types: ['http'], features: { metrics: { port: 0 } } },
    })
    const port = Number(new URL(first.features.metrics?.address as string).port)
    try {
      const prepared = await prepare({
        raw: { name: 'shop', version: '1.0.0', types: ['rpc'], features: { metrics: { port } } },
        source: 'service.toml',
        definition: shop,
        envSource: {},
      })
      const runtime = new ServiceRuntime({
        prepared,
        registry: new MemoryRegistry(),
        ownsRegistry: true,
        logger: createLogger({ level: 'silent' }),
        portOverride: 0,
      })
      await assert.rejects(runtime.start(), /feature metrics failed to start: .*EADDRINUSE/)
      assert.equal(runtime.kind('rpc'), undefined, 'the rpc kind that had started was stopped')
    } finally {
      await first.stop()
    }
  })
})
