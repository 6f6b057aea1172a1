// Everything the dashboard's API and browser tests run against: real services (zod schemas,
// a streaming endpoint, tracing on) on a memory registry, memory events with a dead letter,
// a memory store, a config document with a secret, the platform's trace store, a runtime of
// real child processes, and the dashboard on an HTTP port of its own.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as otel from '@opentelemetry/api'
import { z } from 'zod'
import { Client } from '../../../src/client/client.js'
import { MemoryConfigKV } from '../../../src/config/memory-kv.js'
import {
  createDashboard,
  type Dashboard,
  type DashboardOptions,
} from '../../../src/dashboard/api/dashboard.js'
import { configSourceFromKV } from '../../../src/dashboard/config-source.js'
import type { DashboardSources } from '../../../src/dashboard/sources.js'
import { MemoryEvents } from '../../../src/events/memory.js'
import { errors } from '../../../src/index.js'
import { createLogger } from '../../../src/logger/logger.js'
import { traceSource } from '../../../src/platform/server/dashboard-traces.js'
import { MemoryTraceStore } from '../../../src/platform/traces/memory-store.js'
import { RegistryCache } from '../../../src/registry/cache.js'
import { MemoryRegistry } from '../../../src/registry/memory.js'
import { createSelector } from '../../../src/selector/from-name.js'
import type { Context } from '../../../src/server/context.js'
import { endpoint } from '../../../src/server/endpoint.js'
import { createService, type Service } from '../../../src/service/service.js'
import { MemoryStore } from '../../../src/store/memory.js'
import { MicroTransport } from '../../../src/transport/micro-transport.js'
import { MemoryAuth } from './auth.js'
import { ChildRuntime } from './runtime.js'
import { recordingProvider } from './traces.js'

const HelloRequest = z.object({
  name: z.string().min(1).describe('Who to greet'),
  times: z.number().int().min(1).max(5).optional(),
  mood: z.enum(['happy', 'grumpy']).optional(),
  loud: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  address: z.object({ city: z.string() }).optional(),
})

class Greeter {
  Hello = endpoint(
    { request: HelloRequest, metadata: { description: 'Say hello to someone', scopes: 'greeter:read' } },
    async (req) => {
      const text = `Hello ${req.name}${req.mood === 'grumpy' ? '...' : '!'}`
      return { message: req.loud ? text.toUpperCase() : text, times: req.times ?? 1 }
    },
  )
  async Fail(): Promise<never> {
    throw new Error('the greeter broke')
  }
  /** Ticks: for each request `{count}`, that many messages, a little apart. */
  Ticks = endpoint(
    { metadata: { description: 'Counts to each number sent' } },
    async function* (input: AsyncIterable<{ count: number }>) {
      for await (const req of input) {
        for (let i = 1; i <= Math.min(req.count, 20); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50))
          yield { tick: i, of: req.count }
        }
      }
    },
  )
}

/** Where the worker child process comes from: JSON lines with levels and a trace id. */
const WORKER = `
let n = 0
const trace = '${'ab'.repeat(16)}'
console.log(JSON.stringify({ level: 'info', msg: 'worker started', pid: process.pid }))
setInterval(() => {
  n++
  console.log(JSON.stringify({ level: n % 3 === 0 ? 'warn' : 'info', msg: 'tick ' + n, trace_id: trace }))
  if (n % 5 === 0) console.error('ERROR something failed at tick ' + n)
}, 200)
process.on('SIGTERM', () => { console.log(JSON.stringify({ level: 'info', msg: 'worker stopping' })); process.exit(0) })
`

export interface Fixture {
  url: string
  namespace: string
  services: Service[]
  sources: DashboardSources
  /** The platform's real trace store, read by the dashboard through the server's adapter. */
  traces: MemoryTraceStore
  runtime: ChildRuntime
  events: MemoryEvents
  store: MemoryStore
  auth: MemoryAuth
  dashboard: Dashboard
  server: Server
  /** The token of the `admin` account (auth fixtures). */
  adminToken(): Promise<string>
  close(): Promise<void>
}

export interface FixtureOptions {
  dashboard?: Omit<DashboardOptions, 'auth'>
  /** Turn auth on (accounts `admin`/`reader`). */
  auth?: boolean
  /** Start the runtime's worker process. Default true. */
  runtime?: boolean
  /** Extra services registered with many endpoints (the performance case). */
  extraServices?: number
}

/** Start the whole fixture. */
export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const namespace = 'micro'
  const registry = new MemoryRegistry()
  const traces = new MemoryTraceStore()
  otel.trace.disable()
  otel.trace.setGlobalTracerProvider(recordingProvider(traces))
  const logger = createLogger({ level: 'error' })
  const events = new MemoryEvents({ logger })
  const store = new MemoryStore()
  const common = {
    registry,
    logger,
    store: new MemoryStore(),
    events,
    handleSignals: false,
    features: { tracing: true },
  }
  const greeter = createService({ name: 'greeter', version: '1.2.0', ...common })
  greeter.handle(new Greeter())
  await greeter.subscribe('user.created', async () => {}, { queue: 'mailer' })
  const orders = createService({ name: 'orders', version: '0.9.0', ...common })
  orders.handle(
    {
      Place: async (req: { item?: string }, ctx: Context) => {
        const hello = await orders.client.call(
          'greeter',
          'Greeter.Hello',
          { name: req.item ?? 'order' },
          { context: ctx },
        )
        if (req.item === 'broken') throw errors.internalServerError('orders', 'cannot place a broken order')
        return { placed: req.item ?? 'order', greeting: hello }
      },
    },
    { name: 'Orders' },
  )
  await greeter.run()
  await orders.run()
  const services = [greeter, orders]
  for (let i = 0; i < (options.extraServices ?? 0); i++) await registerFake(registry, i)

  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    local: false,
  })
  const runtime = new ChildRuntime()
  if (options.runtime !== false) runtime.start('worker', ['-e', WORKER])
  const auth = new MemoryAuth()
  auth.addAccount('admin', 'correct horse battery staple', ['admin'])
  auth.addAccount('reader', 'reader secret', ['greeter:read'])
  auth.addRule({
    id: 'admins',
    scope: 'admin',
    resource: { type: 'service', name: '*', endpoint: '*' },
    access: 'granted',
    priority: 100,
  })
  auth.addRule({
    id: 'readers',
    scope: 'greeter:read',
    resource: { type: 'service', name: 'greeter', endpoint: 'Greeter.Hello' },
    access: 'granted',
    priority: 10,
  })
  const secretKey = randomBytes(32)
  const config = configSourceFromKV(new MemoryConfigKV(), { secretKey: () => secretKey })
  await config.set(namespace, 'db.url', 'postgres://db/shop', false)
  await config.set(namespace, 'db.password', 'hunter2', true)
  await config.set(namespace, 'features.checkout', true, false)
  const sources: DashboardSources = {
    registry: { listServices: (ns) => registry.listServices({ namespace: ns }) },
    client: { call: (s, e, r, o) => client.call(s, e, r, o), stream: (s, e, o) => client.stream(s, e, o) },
    traces: traceSource(traces),
    runtime,
    events: { events, inspector: events },
    store,
    config,
    auth,
  }
  const dashboard = createDashboard(sources, { ...options.dashboard, ...(options.auth ? { auth } : {}) })
  const server = createServer(async (req, res) => {
    if (!(await dashboard.handle(req, res))) {
      res.writeHead(404)
      res.end('not the dashboard')
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    namespace,
    services,
    sources,
    traces,
    runtime,
    events,
    store,
    auth,
    dashboard,
    server,
    adminToken: async () => (await auth.login('admin', 'correct horse battery staple'))?.token as string,
    async close() {
      dashboard.close()
      server.closeAllConnections()
      server.close()
      await runtime.close()
      for (const service of services) await service.stop()
      await client.close()
      await events.close()
      await registry.close()
      traces.close()
      otel.trace.disable()
    },
  }
}

/** A registered service with five endpoints and schemas that serves nothing (catalog size only). */
async function registerFake(registry: MemoryRegistry, i: number): Promise<void> {
  const name = `svc-${String(i).padStart(3, '0')}`
  const schema = {
    type: 'object',
    properties: { id: { type: 'string' }, limit: { type: 'integer' } },
    required: ['id'],
  }
  await registry.register({
    name,
    version: '1.0.0',
    metadata: {},
    endpoints: ['Get', 'List', 'Create', 'Update', 'Delete'].map((m) => ({
      name: `${name.replace('-', '')}.${m}`,
      metadata: { description: `${m} a ${name} record` },
      request: schema,
      response: { type: 'object' },
    })),
    nodes: [{ id: `${name}-1`, address: `127.0.0.1:${10000 + i}`, metadata: {} }],
  })
}
