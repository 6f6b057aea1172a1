import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, describe, test } from 'node:test'
import * as otel from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import { createService, type Service } from '../src/index.js'
import { createLogger, type Logger } from '../src/logger/logger.js'
import { startTestPlatform } from '../src/platform/services/test-platform.js'
import { tracesHandler } from '../src/platform/traces/handler.js'
import { MemoryTraceStore } from '../src/platform/traces/memory-store.js'
import { MemoryRegistry } from '../src/registry/memory.js'
import { spawnNode } from './support/process.js'
import { startReceiver } from './support/traces.js'
import { until } from './support/until.js'

const quiet = createLogger({ level: 'silent' })
const INBOUND_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'

interface Pair {
  front: Service
  back: Service
  /** Messages `back` consumed. */
  consumed: unknown[]
  stop(): Promise<void>
}

/**
 * Two real services on loopback ports: `front` calls `back` over RPC and publishes to a
 * topic `back` consumes. `env` is what both read their settings from.
 */
async function pair(env: NodeJS.ProcessEnv, logger: Logger = quiet): Promise<Pair> {
  const registry = new MemoryRegistry()
  const namespace = `traces-${Math.random().toString(16).slice(2)}`
  const common = { registry, namespace, logger, handleSignals: false, env: { ...process.env, ...env } }
  const back = createService({ name: 'back', version: '2.0.0', ...common })
  back.handle(
    {
      Echo: async (req: { fail?: boolean }) => {
        if (req.fail) throw new Error('back fell over')
        return { ok: true }
      },
    },
    { name: 'Back' },
  )
  const consumed: unknown[] = []
  await back.subscribe('orders', async (message: unknown) => void consumed.push(message))
  const front = createService({ name: 'front', version: '1.0.0', ...common })
  front.handle(
    {
      Forward: async (req: { fail?: boolean }, ctx: { metadata: Record<string, string> }) => {
        const reply = await front.client.call('back', 'Back.Echo', req, { context: ctx as never })
        await front.client.publish('orders', { id: 1 })
        return reply
      },
    },
    { name: 'Front' },
  )
  await back.start()
  await front.start()
  return {
    front,
    back,
    consumed,
    // Stopping flushes what each exporter still holds.
    async stop() {
      await front.stop()
      await back.stop()
      await registry.close()
    },
  }
}

describe('services export their spans by default', () => {
  const closers: (() => Promise<void>)[] = []
  after(async () => {
    for (const close of closers.reverse()) await close()
  })

  test('OTEL_EXPORTER_OTLP_ENDPOINT: two services calling and publishing make one waterfall', async () => {
    const receiver = await startReceiver()
    closers.push(receiver.close)
    const { front, consumed, stop } = await pair({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin })
    assert.ok(front.features.tracing, 'tracing is on without being asked for')
    await front.client.call(
      'front',
      'Front.Forward',
      {},
      { metadata: { traceparent: `00-${INBOUND_TRACE}-00f067aa0ba902b7-01` } },
    )
    await until(() => consumed.length === 1, 'the message consumed')
    // The batch timer sends them without a stop.
    await until(() => (receiver.store.get(INBOUND_TRACE)?.spans.length ?? 0) >= 6, 'the exported spans')
    await stop()
    const trace = receiver.store.get(INBOUND_TRACE)
    assert.ok(trace)
    assert.deepEqual(
      trace.spans.map((s) => `${'  '.repeat(s.depth)}${s.service} ${s.kind} ${s.name}`),
      [
        'front client Front.Forward',
        '  front server Front.Forward',
        '    front client Back.Echo',
        '      back server Back.Echo',
        '    front producer publish orders',
        '      back consumer process orders',
      ],
    )
    const find = (service: string, kind: string, name: string) =>
      trace.spans.find((s) => s.service === service && s.kind === kind && s.name === name)
    const serverFront = find('front', 'server', 'Front.Forward')
    const clientCall = find('front', 'client', 'Back.Echo')
    const serverBack = find('back', 'server', 'Back.Echo')
    const publish = find('front', 'producer', 'publish orders')
    const consume = find('back', 'consumer', 'process orders')
    assert.ok(serverFront && clientCall && serverBack && publish && consume, 'every hop was exported')
    assert.equal(
      trace.spans[0]?.parentSpanId,
      '00f067aa0ba902b7',
      "the caller's traceparent is the root's parent",
    )
    assert.equal(trace.spans[0]?.orphan, true)
    assert.equal(serverFront.parentSpanId, trace.spans[0]?.spanId)
    assert.equal(clientCall.parentSpanId, serverFront.spanId)
    assert.equal(serverBack.parentSpanId, clientCall.spanId)
    assert.equal(publish.parentSpanId, serverFront.spanId)
    assert.equal(consume.parentSpanId, publish.spanId, 'consume is a child of publish')
    // Stable RPC and messaging conventions.
    assert.deepEqual(
      pick(serverBack.attributes, [
        'rpc.system.name',
        'rpc.method',
        'server.address',
        'rpc.response.status_code',
      ]),
      {
        'rpc.system.name': 'micro',
        'rpc.method': 'Back.Echo',
        'server.address': 'back',
        'rpc.response.status_code': '200',
      },
    )
    assert.deepEqual(pick(clientCall.attributes, ['rpc.system.name', 'rpc.method', 'server.address']), {
      'rpc.system.name': 'micro',
      'rpc.method': 'Back.Echo',
      'server.address': 'back',
    })
    assert.deepEqual(pick(publish.attributes, ['messaging.operation.type', 'messaging.destination.name']), {
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'orders',
    })
    assert.equal(consume.attributes['messaging.operation.type'], 'process')
    assert.equal(typeof consume.attributes['messaging.message.id'], 'string')
    assert.deepEqual(serverBack.resource, {
      'service.version': '2.0.0',
      'service.namespace': front.namespace,
    })
    // The graph and RED numbers come from these spans.
    const edges = receiver.store.topology().edges.map((e) => `${e.from}->${e.to}:${e.kind}:${e.count}`)
    assert.deepEqual(edges, ['front->back:message:1', 'front->back:rpc:1', 'front->front:rpc:1'])
    const red = receiver.store.red().map((s) => `${s.service}:${s.total.count}`)
    assert.deepEqual(red, ['back:2', 'front:1'])
  })

  test('a failed call is an error span with its code, in the last errors', async () => {
    const receiver = await startReceiver()
    closers.push(receiver.close)
    const { front, stop } = await pair({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url })
    await assert.rejects(front.client.call('front', 'Front.Forward', { fail: true }))
    await stop()
    const [error] = receiver.store.errors()
    assert.ok(error, 'an error was recorded')
    const trace = receiver.store.get(error.traceId)
    const back = trace?.spans.find((s) => s.service === 'back' && s.kind === 'server')
    assert.equal(back?.status, 'error')
    assert.equal(back?.attributes['rpc.response.status_code'], '500')
    assert.equal(back?.attributes['error.type'], '500')
    assert.equal(back?.events[0]?.name, 'exception')
    assert.equal(back?.events[0]?.attributes['exception.message'], 'back fell over')
    assert.equal(trace?.summary.status, 'error')
  })

  test('MICRO_PLATFORM: spans go to the platform service (Traces.Export) over the platform client', async () => {
    const store = new MemoryTraceStore()
    // The real platform service (every block, so MICRO_PLATFORM can move them all there) with Traces.
    const platform = await startTestPlatform({
      setup: (service) => service.handle(tracesHandler(store), { name: 'Traces' }),
    })
    closers.push(() => platform.close())
    assert.equal(platform.service.features.tracing, undefined, 'the platform itself does not trace')
    const { front, consumed, stop } = await pair({ MICRO_PLATFORM: platform.address })
    const reply = await front.client.call('front', 'Front.Forward', {})
    assert.deepEqual(reply, { ok: true })
    await until(() => consumed.length === 1, 'the message consumed')
    await stop()
    const [summary] = store.list({ service: 'front' })
    assert.ok(summary, 'the platform holds the trace')
    assert.deepEqual(summary.services, ['back', 'front'])
    assert.equal(summary.rootName, 'Front.Forward')
  })

  test('without a platform or endpoint nothing is traced or loaded; tracing: false wins over the environment', async () => {
    const plain = createService({
      name: 'plain',
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
      env: {},
    })
    await plain.start()
    assert.equal(plain.features.tracing, undefined)
    await plain.stop()
    const off = createService({
      name: 'off',
      registry: new MemoryRegistry(),
      logger: quiet,
      handleSignals: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      features: { tracing: false },
    })
    await off.start()
    assert.equal(off.features.tracing, undefined)
    await off.stop()
  })

  test('an upstream trace that is not sampled is carried on but not recorded', async () => {
    const receiver = await startReceiver()
    closers.push(receiver.close)
    const { front, stop } = await pair({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin })
    await front.client.call(
      'front',
      'Front.Forward',
      {},
      { metadata: { traceparent: `00-${'ab'.repeat(16)}-00f067aa0ba902b7-00` } },
    )
    await front.client.call('front', 'Front.Forward', {})
    await stop()
    assert.equal(receiver.store.get('ab'.repeat(16)), undefined)
    assert.equal(receiver.store.list().length, 1, 'the sampled call is there')
  })

  test('an endpoint that is down costs the service nothing but a warning', async () => {
    const port = await closedPort()
    const warnings: string[] = []
    const logger = {
      ...quiet,
      warn: (message: string) => void warnings.push(message),
      child: () => logger,
    } as Logger
    const { front, stop } = await pair(
      { OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:secret@127.0.0.1:${port}` },
      logger,
    )
    for (let i = 0; i < 3; i++)
      assert.deepEqual(await front.client.call('front', 'Front.Forward', {}), { ok: true })
    await stop()
    assert.ok(
      warnings.some((w) => /trace export to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed/.test(w)),
      warnings.join('\n'),
    )
    assert.ok(
      warnings.every((w) => !w.includes('secret')),
      'credentials never reach the log',
    )
  })

  test('an OpenTelemetry SDK registered globally records instead; the built-in exporter stays off', async () => {
    const receiver = await startReceiver()
    closers.push(receiver.close)
    const memory = new InMemorySpanExporter()
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] })
    otel.trace.setGlobalTracerProvider(provider)
    try {
      const { front, stop } = await pair({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin })
      await front.client.call('front', 'Front.Forward', {})
      await stop()
      assert.ok(
        memory.getFinishedSpans().some((s) => s.name === 'Back.Echo'),
        'the SDK got the spans',
      )
      assert.equal(receiver.store.stats().spans, 0, 'and nothing was exported twice')
    } finally {
      otel.trace.disable()
      await provider.shutdown()
    }
  })
})

describe('a service.toml service under micro run exports by default', () => {
  test('OTEL_EXPORTER_OTLP_ENDPOINT reaches a real process; its spans arrive', async () => {
    const receiver = await startReceiver()
    try {
      const child = spawnNode(['dist/cli/main.js', 'run', '--inline', 'test/fixtures/definitions/multi'], {
        MICRO_REGISTRY: 'memory',
        MICRO_HTTP_PORT: '0',
        REGION: 'eu-west',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.origin,
      })
      const line = (await child.waitFor(/multi 2\.1\.0 is running: .*\n/, 20_000))[0]
      const rpc = /rpc on (\S+?),/.exec(line)?.[1] as string
      const hello = await fetch(`http://${rpc}/Multi/Hello`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"Ann"}',
      })
      assert.equal(hello.status, 200)
      child.process.kill('SIGTERM')
      await child.exited
      const [summary] = receiver.store.list({ service: 'multi' })
      assert.equal(summary?.rootName, 'Multi.Hello')
    } finally {
      await receiver.close()
    }
  })
})

function pick(attributes: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, attributes[k]]))
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
