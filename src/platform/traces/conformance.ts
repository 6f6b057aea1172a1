import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { TraceStore } from './trace-store.js'
import type { SpanRecord } from './types.js'

/** What a store under test is made with: bounds, and a clock the test moves. */
export interface StoreSetup {
  maxSpans?: number
  maxBytes?: number
  maxQueuedUpdates?: number
  now?: () => number
}

/** 2023-11-14T22:13:20Z: the fixed "now" of the suite. */
export const NOW = 1_700_000_000_000

let next = 1
/** A span with defaults: a server span of `svc`, ending 1 s before NOW. */
export function span(fields: Partial<SpanRecord> = {}): SpanRecord {
  const id = (next++).toString(16)
  return {
    traceId: id.padStart(32, 'c'),
    spanId: id.padStart(16, 'd'),
    name: 'Svc.Call',
    kind: 'server',
    service: 'svc',
    start: NOW - 1000,
    duration: 10,
    status: 'unset',
    attributes: {},
    events: [],
    links: [],
    resource: {},
    ...fields,
  }
}

/** Spans of one trace: `root` in `a` calling `b` over RPC, `b` publishing to `c`. */
function callChain(traceId: string) {
  const at = NOW - 5000
  const root = span({
    traceId,
    spanId: '1'.repeat(16),
    service: 'a',
    name: 'A.Run',
    start: at,
    duration: 100,
  })
  const call = span({
    traceId,
    spanId: '2'.repeat(16),
    parentSpanId: root.spanId,
    service: 'a',
    kind: 'client',
    name: 'B.Do',
    start: at + 10,
    duration: 50,
    attributes: { 'rpc.method': 'B.Do', 'server.address': 'b' },
  })
  const serve = span({
    traceId,
    spanId: '3'.repeat(16),
    parentSpanId: call.spanId,
    service: 'b',
    name: 'B.Do',
    start: at + 15,
    duration: 40,
    attributes: { 'rpc.method': 'B.Do' },
  })
  const publish = span({
    traceId,
    spanId: '4'.repeat(16),
    parentSpanId: serve.spanId,
    service: 'b',
    kind: 'producer',
    name: 'publish orders',
    start: at + 20,
    duration: 2,
    attributes: { 'messaging.destination.name': 'orders' },
  })
  const consume = span({
    traceId,
    spanId: '5'.repeat(16),
    parentSpanId: publish.spanId,
    service: 'c',
    kind: 'consumer',
    name: 'process orders',
    start: at + 30,
    duration: 20,
    attributes: { 'messaging.destination.name': 'orders' },
  })
  const sibling = span({
    traceId,
    spanId: '6'.repeat(16),
    parentSpanId: root.spanId,
    service: 'a',
    kind: 'internal',
    name: 'cleanup',
    start: at + 5,
    duration: 1,
  })
  return { root, call, serve, publish, consume, sibling }
}

/**
 * The behaviour every TraceStore must have. `make` builds a fresh store for each test
 * with the given bounds and clock.
 */
export function traceStoreConformance(name: string, make: (setup: StoreSetup) => TraceStore): void {
  const clock = () => NOW

  describe(`TraceStore conformance: ${name}`, () => {
    test('spans from many services and batches, in any order, make one waterfall', () => {
      const store = make({ now: clock })
      const t = callChain('a1'.repeat(16))
      // The consumer and the server side arrive first, the root last.
      store.add([t.consume, t.serve])
      store.add([t.publish, t.call, t.sibling])
      store.add([t.root])
      const trace = store.get(t.root.traceId)
      assert.ok(trace)
      assert.deepEqual(
        trace.spans.map((s) => `${'  '.repeat(s.depth)}${s.service}:${s.name}`),
        [
          'a:A.Run',
          '  a:cleanup',
          '  a:B.Do',
          '    b:B.Do',
          '      b:publish orders',
          '        c:process orders',
        ],
      )
      assert.deepEqual(
        trace.spans.map((s) => s.offset),
        [0, 5, 10, 15, 20, 30],
      )
      assert.ok(trace.spans.every((s) => !s.orphan))
      assert.deepEqual(trace.summary, {
        traceId: t.root.traceId,
        rootService: 'a',
        rootName: 'A.Run',
        rootEndpoint: 'A.Run',
        services: ['a', 'b', 'c'],
        start: t.root.start,
        duration: 100,
        spanCount: 6,
        errorCount: 0,
        status: 'ok',
      })
      assert.equal(trace.spans[3]?.endpoint, 'B.Do')
      assert.equal(trace.spans[5]?.endpoint, 'orders')
      assert.equal(store.get('ff'.repeat(16)), undefined)
      assert.ok(store.get(t.root.traceId.toUpperCase()), 'ids are case-insensitive')
    })

    test('a span whose parent is missing is a root marked orphan; a span sent twice is kept once', () => {
      const store = make({ now: clock })
      const lone = span({ parentSpanId: 'e'.repeat(16), name: 'late' })
      assert.equal(store.add([lone, lone]), 1)
      assert.equal(store.add([lone]), 0)
      const trace = store.get(lone.traceId)
      assert.equal(trace?.spans.length, 1)
      assert.equal(trace?.spans[0]?.orphan, true)
      assert.equal(trace?.summary.rootName, 'late')
    })

    test('spans whose parents form a cycle are still shown', () => {
      const store = make({ now: clock })
      const traceId = 'b2'.repeat(16)
      const x = span({ traceId, spanId: '7'.repeat(16), parentSpanId: '8'.repeat(16) })
      const y = span({ traceId, spanId: '8'.repeat(16), parentSpanId: '7'.repeat(16), start: NOW - 900 })
      store.add([x, y])
      assert.equal(store.get(traceId)?.spans.length, 2)
      assert.equal(store.list()[0]?.spanCount, 2)
    })

    test('the list: newest first, narrowed by service, endpoint, status, duration, time, limit', () => {
      const store = make({ now: clock })
      const fast = span({ service: 'shop', name: 'Shop.List', start: NOW - 3000, duration: 5 })
      const slow = span({ service: 'shop', name: 'Shop.Buy', start: NOW - 2000, duration: 900 })
      const failed = span({
        service: 'pay',
        name: 'Pay.Charge',
        start: NOW - 1000,
        duration: 50,
        status: 'error',
      })
      const topic = span({
        service: 'mail',
        kind: 'consumer',
        name: 'process signup',
        start: NOW - 500,
        attributes: { 'messaging.destination.name': 'signup' },
      })
      store.add([fast, slow, failed, topic])
      const ids = (q: Parameters<TraceStore['list']>[0]) => store.list(q).map((s) => s.rootName)
      assert.deepEqual(ids({}), ['process signup', 'Pay.Charge', 'Shop.Buy', 'Shop.List'])
      assert.deepEqual(ids({ service: 'shop' }), ['Shop.Buy', 'Shop.List'])
      assert.deepEqual(ids({ endpoint: 'Shop.Buy' }), ['Shop.Buy'])
      assert.deepEqual(ids({ endpoint: 'signup' }), ['process signup'], 'a topic is an endpoint')
      assert.deepEqual(ids({ status: 'error' }), ['Pay.Charge'])
      assert.deepEqual(ids({ status: 'ok', minDuration: 40 }), ['Shop.Buy'])
      assert.deepEqual(ids({ maxDuration: 10 }), ['process signup', 'Shop.List'])
      assert.deepEqual(ids({ since: NOW - 2000, until: NOW - 1000 }), ['Pay.Charge', 'Shop.Buy'])
      assert.deepEqual(ids({ limit: 1 }), ['process signup'])
      assert.deepEqual(ids({ service: 'nobody' }), [])
    })

    test('bounded by span count: the oldest spans go, and traces left empty with them', () => {
      const store = make({ maxSpans: 3, now: clock })
      const spans = [1, 2, 3, 4, 5].map((i) => span({ name: `s${i}`, start: NOW - 1000 + i }))
      for (const s of spans) store.add([s])
      const stats = store.stats()
      assert.equal(stats.spans, 3)
      assert.equal(stats.traces, 3)
      assert.equal(stats.evicted, 2)
      assert.deepEqual(
        store.list().map((s) => s.rootName),
        ['s5', 's4', 's3'],
      )
      assert.equal(store.get(spans[0]?.traceId as string), undefined)
    })

    test('bounded by bytes: big spans push out old ones; one bigger than the budget is not kept', () => {
      const probe = span()
      const size = JSON.stringify(probe).length
      const store = make({ maxBytes: size * 3 + 10, now: clock })
      for (let i = 0; i < 10; i++) store.add([span()])
      assert.ok(store.stats().bytes <= size * 3 + 10)
      assert.equal(store.stats().spans, 3)
      const huge = span({ attributes: { blob: 'x'.repeat(size * 4) } })
      assert.equal(store.add([huge]), 0)
      assert.equal(store.stats().spans, 3, 'nothing evicted for a span that cannot fit')
      // Growing one trace evicts its own oldest spans too; the trace stays while a span is left.
      const traceId = 'c3'.repeat(16)
      for (let i = 0; i < 5; i++) store.add([span({ traceId, name: `part${i}` })])
      assert.deepEqual(
        store.get(traceId)?.spans.map((s) => s.name),
        ['part2', 'part3', 'part4'],
      )
    })

    test('watch: one update per trace per batch; ends on abort; a slow consumer loses the oldest', async () => {
      const store = make({ maxQueuedUpdates: 2, now: clock })
      const abort = new AbortController()
      const updates = store.watch({ signal: abort.signal })
      const a = span({ name: 'first' })
      const b = span({ name: 'second' })
      store.add([a, b, span({ traceId: a.traceId, parentSpanId: a.spanId, name: 'child' })])
      const one = await updates.next()
      const two = await updates.next()
      assert.deepEqual([one.value?.traceId, two.value?.traceId].sort(), [a.traceId, b.traceId].sort())
      const ofA = [one.value, two.value].find((u) => u?.traceId === a.traceId)
      assert.equal(ofA?.summary.spanCount, 2)
      // Nobody reads: five batches, only the last two are queued; ingestion never waits.
      for (let i = 0; i < 5; i++) store.add([span({ name: `queued${i}` })])
      const queued = [await updates.next(), await updates.next()].map((r) => r.value?.summary.rootName)
      assert.deepEqual(queued, ['queued3', 'queued4'])
      const pending = updates.next()
      abort.abort()
      assert.deepEqual(await pending, { value: undefined, done: true })
      // A consumer that breaks out of for-await ends too; the others go on.
      const breaking = store.watch()
      const late = store.watch()
      store.add([span({ name: 'late' })])
      for await (const update of breaking) {
        assert.equal(update.summary.rootName, 'late')
        break
      }
      assert.deepEqual(await breaking.next(), { value: undefined, done: true })
      store.add([span({ name: 'later' })])
      assert.equal((await late.next()).value?.summary.rootName, 'late')
      assert.equal((await late.next()).value?.summary.rootName, 'later')
      await late.return?.()
    })

    test('RED: rate, error rate and p50/p95/p99 per service and endpoint, in time buckets', () => {
      const store = make({ now: clock })
      const spans: SpanRecord[] = []
      // 100 calls to Api.Get in the last bucket: latencies 1..100 ms, 10 of them failed.
      for (let i = 1; i <= 100; i++) {
        spans.push(
          span({
            service: 'api',
            name: 'Api.Get',
            attributes: { 'rpc.method': 'Api.Get' },
            start: NOW - 5000 - i,
            duration: i,
            status: i % 10 === 0 ? 'error' : 'ok',
          }),
        )
      }
      // 20 calls to Api.Put a minute earlier, 200 ms each.
      for (let i = 0; i < 20; i++) {
        spans.push(span({ service: 'api', name: 'Api.Put', start: NOW - 65_000, duration: 200 }))
      }
      // Client spans measure the caller's view: not counted as the service's requests.
      spans.push(span({ service: 'api', kind: 'client', name: 'Db.Query' }))
      // Older than the window: not counted.
      spans.push(span({ service: 'api', name: 'Api.Get', start: NOW - 60 * 60_000 }))
      store.add(spans)
      const [api] = store.red({ service: 'api' })
      assert.ok(api)
      assert.equal(api.endpoint, undefined)
      assert.equal(api.total.count, 120)
      assert.equal(api.total.errors, 10)
      assert.ok(Math.abs(api.total.errorRate - 10 / 120) < 1e-9)
      const last = api.points[api.points.length - 1]
      assert.ok(last)
      assert.ok(last.time <= NOW && NOW - last.time < 60_000, 'the last bucket holds now')
      const recent = api.points.filter((p) => p.count > 0)
      assert.equal(recent.length, 2, 'two buckets had requests')
      const gets = recent[1] as (typeof recent)[number]
      assert.equal(gets.count, 100)
      assert.equal(gets.errors, 10)
      near(gets.p50, 50)
      near(gets.p95, 95)
      near(gets.p99, 99)
      const bucketSeconds = (api.points[1]?.time ?? 0) - (api.points[0]?.time ?? 0)
      assert.ok(bucketSeconds > 0)
      assert.ok(Math.abs(gets.rate - 100 / (bucketSeconds / 1000)) < 1e-9)
      const byEndpoint = store.red({ service: 'api', byEndpoint: true })
      assert.deepEqual(
        byEndpoint.map((s) => [s.endpoint, s.total.count]),
        [
          ['Api.Get', 100],
          ['Api.Put', 20],
        ],
      )
      near(byEndpoint[1]?.total.p99 ?? 0, 200)
      assert.deepEqual(store.red({ service: 'nobody' }), [])
      const short = store.red({ service: 'api', window: 30_000 })[0]
      assert.equal(short?.total.count, 100, 'a shorter window leaves out the older bucket')
    })

    test('topology: calls and publishes between services, with rate, errors and p99 per edge', () => {
      const store = make({ now: clock })
      for (let i = 0; i < 3; i++) {
        const t = callChain(`d${i}`.padEnd(32, '0'))
        if (i === 0) t.serve.status = 'error'
        store.add(Object.values(t))
      }
      // A call whose server side was never exported still counts, toward server.address.
      store.add([
        span({
          service: 'a',
          kind: 'client',
          name: 'Ext.Get',
          duration: 300,
          attributes: { 'server.address': 'ext' },
        }),
      ])
      const graph = store.topology({ window: 60_000 })
      assert.equal(graph.window, 60_000)
      assert.deepEqual(graph.services, ['a', 'b', 'c', 'ext'])
      assert.deepEqual(
        graph.edges.map((e) => [e.from, e.to, e.kind, e.count, e.errors]),
        [
          ['a', 'b', 'rpc', 3, 1],
          ['a', 'ext', 'rpc', 1, 0],
          ['b', 'c', 'message', 3, 0],
        ],
      )
      near(graph.edges[0]?.p99 ?? 0, 50)
      near(graph.edges[1]?.p99 ?? 0, 300)
      assert.ok(Math.abs((graph.edges[0]?.rate ?? 0) - 3 / 60) < 1e-9)
      assert.deepEqual(store.topology({ window: 1 }).edges, [], 'outside the window: nothing')
    })

    test('errors: the last failed spans, newest first, with their trace', () => {
      const store = make({ now: clock })
      store.add([
        span({ service: 'x', name: 'X.A', status: 'error', statusMessage: 'boom', start: NOW - 3000 }),
        span({
          service: 'y',
          name: 'Y.B',
          status: 'error',
          start: NOW - 2000,
          events: [{ time: NOW - 2000, name: 'exception', attributes: { 'exception.message': 'disk full' } }],
        }),
        span({
          service: 'y',
          name: 'Y.C',
          status: 'error',
          attributes: { 'error.type': '503' },
          start: NOW - 1000,
        }),
        span({ service: 'y', name: 'Y.D', status: 'ok' }),
      ])
      const errors = store.errors()
      assert.deepEqual(
        errors.map((e) => [e.service, e.endpoint, e.message]),
        [
          ['y', 'Y.C', '503'],
          ['y', 'Y.B', 'disk full'],
          ['x', 'X.A', 'boom'],
        ],
      )
      assert.ok(errors.every((e) => store.get(e.traceId)))
      assert.deepEqual(
        store.errors({ service: 'x', limit: 5 }).map((e) => e.endpoint),
        ['X.A'],
      )
      assert.equal(store.errors({ limit: 1 }).length, 1)
    })

    test('clear forgets everything', () => {
      const store = make({ now: clock })
      store.add([span({ status: 'error' })])
      store.clear()
      assert.deepEqual(store.list(), [])
      assert.deepEqual(store.errors(), [])
      assert.deepEqual(store.red(), [])
      assert.equal(store.stats().spans, 0)
      store.close()
    })
  })
}

/** Within the histogram's ~10% of `expected`. */
function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.11, `${actual} is not within 10% of ${expected}`)
}
