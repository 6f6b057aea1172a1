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
  test('writes the Prometheus text format', () => {
    const r = new MetricsRegistry()
    r.counter('jobs_total', 'Jobs done.\nAll of them.').inc({ queue: 'a"b\\c' }, 2)
    const g = r.gauge('temperature', 'Degrees.')
    g.set({}, 20.5)
    g.dec({}, 0.5)
    const h = r.histogram('latency_seconds', 'Latency.', [0.1, 1])
    h.observe({ op: 'x' }, 0.05)
    h.observe({ op: 'x' }, 0.5)
    h.observe({ op: 'x' }, 5)
    assert.equal(
      r.text(),
      [
        '# HELP jobs_total Jobs done.\\nAll of them.',
        '# TYPE jobs_total counter',
        'jobs_total{queue="a\\"b\\\\c"} 2',
        '# HELP temperature Degrees.',
        '# TYPE temperature gauge',
        'temperature 20',
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{op="x",le="0.1"} 1',
        'latency_seconds_bucket{op="x",le="1"} 2',
        'latency_seconds_bucket{op="x",le="+Inf"} 3',
        'latency_seconds_sum{op="x"} 5.55',
        'latency_seconds_count{op="x"} 3',
        '',
      ].join('\n'),
    )
  })

  test('refuses bad names, a second type for one name, and counters going down', () => {
    const r = new MetricsRegistry()
    assert.throws(() => r.counter('bad-name', 'x'), /not a valid metric name/)
    assert.throws(() => r.counter('ok', 'x').inc({ 'bad-label': 1 }), /not a valid label name/)
    r.counter('twice', 'x')
    assert.throws(() => r.gauge('twice', 'x'), /already a counter/)
    assert.throws(() => r.counter('c', 'x').inc({}, -1), /cannot decrease/)
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
