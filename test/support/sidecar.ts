/**
 * What the sidecar tests share: a fake app (a real node:http server on loopback whose
 * answers each test scripts), a sidecar in this process on port 0 with in-memory blocks,
 * and a TypeScript service on the same registry and broker.
 */
import { once } from 'node:events'
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryBroker } from '../../src/broker/memory.js'
import { MemoryEvents } from '../../src/events/memory.js'
import { createLogger } from '../../src/logger/logger.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import { createService, type Service } from '../../src/service/service.js'
import type { SidecarOptions } from '../../src/sidecar/options.js'
import { createSidecar, type Sidecar } from '../../src/sidecar/sidecar.js'
import { MemoryStore } from '../../src/store/memory.js'
import { MemorySync } from '../../src/sync/memory.js'

/** One request the app received. */
export interface AppHit {
  method: string
  path: string
  headers: IncomingHttpHeaders
  body: Buffer
}

/** What a route answers: a status, headers and a body (an object is sent as JSON), or `hang` (never). */
export type AppAnswer = { status?: number; headers?: Record<string, string>; body?: unknown } | 'hang'

/** A scripted app: routes by path, a health switch, declarations, and what it saw. */
export class FakeApp {
  readonly hits: AppHit[] = []
  readonly routes = new Map<string, (hit: AppHit) => AppAnswer | Promise<AppAnswer>>()
  /** Requests whose connection closed before the app answered (the sidecar gave up on them). */
  aborted = 0
  healthy = true
  /** The answer to GET /micro/endpoints (undefined: 404). */
  endpoints: unknown
  /** The answer to GET /micro/subscribe (undefined: 404). */
  subscriptions: unknown
  #server: Server | undefined
  #port = 0

  get port(): number {
    return this.#port
  }

  /** Listen (again) on the same port, or a new one the first time. */
  async listen(): Promise<void> {
    const server = createServer((req, res) => this.#serve(req, res))
    server.listen(this.#port, '127.0.0.1')
    await once(server, 'listening')
    this.#port = (server.address() as AddressInfo).port
    this.#server = server
  }

  /** Stop listening and cut every connection: the app is gone. */
  async close(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  hitsOn(path: string): AppHit[] {
    return this.hits.filter((h) => h.path === path)
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const hit: AppHit = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks),
    }
    if (hit.path === '/health')
      return send(res, { status: this.healthy ? 200 : 503, body: { ok: this.healthy } })
    if (hit.path === '/micro/endpoints' || hit.path === '/micro/subscribe') {
      const declared = hit.path === '/micro/endpoints' ? this.endpoints : this.subscriptions
      return send(res, declared === undefined ? { status: 404 } : { body: declared })
    }
    this.hits.push(hit)
    const route = this.routes.get(hit.path)
    const answer = route ? await route(hit) : { status: 404, body: { detail: `no route ${hit.path}` } }
    if (answer === 'hang') {
      res.on('close', () => {
        if (!res.writableEnded) this.aborted++
      })
      return
    }
    send(res, answer)
  }
}

function send(res: ServerResponse, answer: Exclude<AppAnswer, 'hang'>): void {
  const body =
    answer.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(answer.body)
        ? answer.body
        : typeof answer.body === 'string'
          ? Buffer.from(answer.body)
          : Buffer.from(JSON.stringify(answer.body))
  const headers: Record<string, string> = { ...answer.headers }
  if (answer.body !== undefined && typeof answer.body === 'object' && !Buffer.isBuffer(answer.body)) {
    headers['content-type'] ??= 'application/json'
  }
  res.writeHead(answer.status ?? 200, { ...headers, 'content-length': String(body.length) })
  res.end(body)
}

/** In-memory blocks shared by the sidecar and the TypeScript services of one test. */
export interface Blocks {
  registry: MemoryRegistry
  broker: MemoryBroker
  events: MemoryEvents
  store: MemoryStore
  sync: MemorySync
  namespace: string
}

export function memoryBlocks(): Blocks {
  return {
    registry: new MemoryRegistry(),
    broker: new MemoryBroker(),
    events: new MemoryEvents(),
    store: new MemoryStore(),
    sync: new MemorySync(),
    namespace: `sc-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  }
}

const quiet = createLogger({ level: 'silent' })

/** A sidecar for `app` on 127.0.0.1:0 with the blocks; started (its API is up). */
export async function startSidecar(
  app: FakeApp,
  blocks: Blocks,
  options: Partial<SidecarOptions> = {},
): Promise<{ sidecar: Sidecar; api: string }> {
  const sidecar = createSidecar({
    name: 'py-orders',
    appPort: app.port,
    address: '127.0.0.1:0',
    healthInterval: 100,
    ...options,
    service: {
      registry: blocks.registry,
      broker: blocks.broker,
      events: blocks.events,
      store: blocks.store,
      sync: blocks.sync,
      namespace: blocks.namespace,
      logger: quiet,
      ...options.service,
    },
  })
  const address = await sidecar.start()
  return { sidecar, api: `http://${address}` }
}

/** A TypeScript service on the same blocks, started. */
export async function startService(blocks: Blocks, name: string, ...handlers: object[]): Promise<Service> {
  const service = createService({
    name,
    registry: blocks.registry,
    broker: blocks.broker,
    events: blocks.events,
    store: blocks.store,
    sync: blocks.sync,
    namespace: blocks.namespace,
    logger: quiet,
    handleSignals: false,
  })
  for (const handler of handlers) service.handle(handler)
  await service.start()
  return service
}
