import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { MemoryBroker, MemoryHub } from '../broker/memory.js'
import type { ClientStream } from '../client/client-stream.js'
import type { CallOptions } from '../client/options.js'
import type { InferClients } from '../definition/clients.js'
import type { ServiceDefinition } from '../definition/define.js'
import type { Features, ServiceInfo } from '../definition/deps.js'
import type { InferEnv } from '../definition/env-spec.js'
import { prepare } from '../definition/prepare.js'
import { ServiceRuntime } from '../definition/runtime.js'
import { isTable, type Table } from '../definition/table.js'
import { readToml } from '../definition/toml.js'
import { MicroError } from '../errors/errors.js'
import { MemoryEvents } from '../events/memory.js'
import { createLogger, type Level } from '../logger/logger.js'
import { MemoryRegistry } from '../registry/memory.js'
import type { Registry } from '../registry/registry.js'
import { createService } from '../service/service.js'
import { MemoryStore } from '../store/memory.js'
import type { Store } from '../store/store.js'
import { MemorySync } from '../sync/memory.js'
import type { Sync } from '../sync/sync.js'
import { uuid } from '../util/ids.js'
import { DeliveryTracker } from './deliveries.js'
import { type HttpBody, httpCall, type TestResponse } from './http-call.js'

/** Options of `testService`. */
export interface TestServiceOptions<C = any> {
  /** The environment the service sees (only this: process.env is not read). */
  env?: Record<string, string>
  /** Fakes for its clients: objects with the methods the test needs (values or promises). */
  clients?: { [K in keyof C]?: object }
  /** Over the toml: `false` disables a feature, `true` enables it, a table enables and configures it. */
  features?: Record<string, boolean | Table>
  /** The toml: a path, or its content as an object. Default: service.toml beside the definition's file. */
  config?: string | Table
  /** Run the definition's onStart/onStop. Default false. */
  lifecycle?: boolean
  /** Log at this level (true: info). Default: silent. */
  logs?: boolean | Level
  /** Default: a MemoryRegistry of its own. */
  registry?: Registry
  /** Default: a namespace of its own, so harnesses in one process never see each other. */
  namespace?: string
  /** How long `publish` waits for the service's subscribers, ms. Default 5000. */
  publishTimeout?: number
}

/** A service running in-process for a test. */
export interface TestedService<E = any, C = any> extends AsyncDisposable {
  readonly info: ServiceInfo
  readonly env: InferEnv<E>
  /** The clients the service got (the fakes, or real clients on the test registry). */
  readonly clients: InferClients<C>
  readonly features: Features
  readonly registry: Registry
  /** The test's memory broker and events: the service's are these. */
  readonly broker: MemoryBroker
  readonly events: MemoryEvents
  /** The service's store (a memory one) as its deps see it: its namespace, its own table. */
  readonly store: Store
  /** The service's sync (a memory one), in its namespace. */
  readonly sync: Sync
  /** Where a kind serves (`http://127.0.0.1:PORT` for http, `127.0.0.1:PORT` for rpc), if it does. */
  address(kind: string): string | undefined
  /** Call an RPC endpoint of the service (`Orders.Create`). */
  call<T = unknown>(endpoint: string, request?: unknown, options?: CallOptions): Promise<T>
  /** Open a stream to an RPC streaming endpoint. */
  stream<Req = unknown, Res = unknown>(endpoint: string, options?: CallOptions): ClientStream<Req, Res>
  /** An HTTP request to the http kind; `path` includes the base path. Objects are sent as JSON. */
  http(
    method: string,
    path: string,
    body?: HttpBody,
    init?: { headers?: Record<string, string> },
  ): Promise<TestResponse>
  /** Publish to the test broker and wait until the service's subscriptions have handled it. */
  publish(topic: string, payload: unknown, options?: { headers?: Record<string, string> }): Promise<void>
  /** Run the service's script once; resolves with its exit code. */
  script(): Promise<number>
  /** Stop the service (and the engines the harness made). */
  stop(): Promise<void>
}

/**
 * Run a service definition in this process for a test: memory registry, broker, events
 * and store, fake clients, every kind but script started (on ports chosen by the system),
 * lifecycle hooks only when asked, logs silent unless asked.
 *
 * ```ts
 * const t = await testService(orders, { env: { DATABASE_URL: 'postgres://x' }, clients: { users: fakeUsers } })
 * await t.call('Orders.Create', { item: 'book' })
 * await t.http('POST', '/orders', { item: 'book' })
 * await t.stop()
 * ```
 */
export async function testService<E, C>(
  definition: ServiceDefinition<E, C>,
  options: TestServiceOptions<C> = {},
): Promise<TestedService<E, C>> {
  const raw = await loadConfig(definition, options.config)
  const prepared = await prepare({
    raw: withTestPorts(raw),
    source: typeof options.config === 'string' ? options.config : 'service.toml',
    definition,
    envSource: options.env ?? {},
    features: { ...(options.logs ? {} : { logging: false }), ...options.features },
  })
  const level: Level = options.logs === true ? 'info' : options.logs || 'silent'
  const registry = options.registry ?? new MemoryRegistry()
  const broker = new MemoryBroker({ hub: new MemoryHub(), logger: createLogger({ level }) })
  const events = new MemoryEvents({ logger: createLogger({ level }) })
  const store = new MemoryStore()
  const sync = new MemorySync()
  const tracker = new DeliveryTracker()
  const runtime = new ServiceRuntime({
    prepared,
    registry,
    ownsRegistry: options.registry === undefined,
    namespace: options.namespace ?? `test-${uuid().slice(0, 8)}`,
    logger: createLogger({
      level,
      fields: { service: prepared.config.name, version: prepared.config.version },
    }),
    portOverride: 0,
    fakes: options.clients as Record<string, object> | undefined,
    lifecycle: options.lifecycle ?? false,
    skipKinds: ['script'],
    blocks: { broker, events, store, sync },
  })
  runtime.extensions.brokerWrappers.push((b) => tracker.wrap(b))
  await runtime.start()
  // The test calls from outside: through a client of its own, without the service's client middleware.
  const caller = createService({
    name: 'micro.testing',
    registry,
    namespace: runtime.info.namespace,
    logger: createLogger({ level }),
    handleSignals: false,
  })
  const stop = async () => {
    await caller.stop()
    try {
      await runtime.stop()
    } finally {
      // The runtime leaves blocks it was given open: they are this harness's.
      await Promise.allSettled([broker.close(), events.close(), store.close(), sync.close()])
    }
  }
  const name = runtime.info.name
  const publishTimeout = options.publishTimeout ?? 5000
  // The rpc and grpc kinds both serve the endpoints t.call reaches.
  const servesRpc = () => runtime.kind('rpc') !== undefined || runtime.kind('grpc') !== undefined
  const tested: TestedService<E, C> = {
    info: runtime.info,
    env: runtime.env as InferEnv<E>,
    clients: runtime.clients as InferClients<C>,
    features: runtime.features as Features,
    registry,
    broker,
    events,
    store: runtime.stack.store,
    sync: runtime.stack.sync,
    address(kind) {
      const address = runtime.kind(kind)?.info().address
      return typeof address === 'string' ? address : undefined
    },
    call(endpoint, request = {}, callOptions) {
      if (!servesRpc()) return Promise.reject(notRunning(name, 'rpc', 'call'))
      return caller.client.call(name, endpoint, request, callOptions)
    },
    stream(endpoint, callOptions) {
      if (!servesRpc()) throw notRunning(name, 'rpc', 'stream')
      return caller.client.stream(name, endpoint, callOptions)
    },
    http(method, path, body, init) {
      const address = runtime.kind('http')?.info().address
      if (typeof address !== 'string') return Promise.reject(notRunning(name, 'http', 'http'))
      return httpCall(address, method, path, body, init?.headers)
    },
    async publish(topic, payload, publishOptions = {}) {
      const target = tracker.handled(topic) + tracker.expected(topic)
      const body =
        payload instanceof Uint8Array
          ? payload
          : new TextEncoder().encode(typeof payload === 'string' ? payload : JSON.stringify(payload))
      await broker.publish(topic, { headers: publishOptions.headers, body })
      await tracker.waitFor(topic, target, publishTimeout)
    },
    async script() {
      const script = definition.spec.script
      if (!script) throw new TypeError(`${name} has no script`)
      const code = await script(runtime.deps('script') as never)
      return typeof code === 'number' ? code : 0
    },
    stop,
    [Symbol.asyncDispose]: stop,
  }
  return tested
}

async function loadConfig(definition: ServiceDefinition, config: string | Table | undefined): Promise<Table> {
  if (typeof config === 'string') return readToml(config)
  if (config !== undefined) return config
  const beside = definition.file ? join(dirname(definition.file), 'service.toml') : undefined
  if (beside && existsSync(beside)) return readToml(beside)
  // No toml: run the kinds the definition has (a script only on demand).
  const kinds = ['rpc', 'grpc', 'http', 'worker'].filter(
    (k) => typeof (definition.spec as Record<string, unknown>)[k] === 'function',
  )
  return { name: 'test-service', version: '0.0.0', types: kinds.length > 0 ? kinds : ['script'] }
}

/**
 * A metrics listener gets port 0 (any free port), as the kinds do (portOverride); metrics
 * on the http kind's own route stay there.
 */
function withTestPorts(raw: Table): Table {
  const features = isTable(raw.features) ? raw.features : undefined
  const metrics = features && isTable(features.metrics) ? features.metrics : undefined
  if (!features || !metrics) return raw
  const onHttp =
    Array.isArray(raw.types) && raw.types.some((t) => typeof t === 'string' && t.split(':')[0] === 'http')
  if (metrics.port === undefined && onHttp) return raw
  return { ...raw, features: { ...features, metrics: { ...metrics, port: 0 } } }
}

function notRunning(service: string, kind: string, what: string): MicroError {
  return new MicroError('micro.testing', `${service} runs no ${kind} kind: t.${what}() needs one`, 400)
}
