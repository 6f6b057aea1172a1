/**
 * A small world for the MCP tests: real services on loopback ports in one in-process
 * registry, a client, an MCP engine over them, and `/mcp` on a node:http server on port 0.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import { Client } from '../../src/client/client.js'
import { MicroError } from '../../src/errors/errors.js'
import { createLogger } from '../../src/logger/logger.js'
import { McpEngine as Engine, type McpEngine, type McpOptions } from '../../src/mcp/engine.js'
import { createMcpHttpHandler, type McpHttp, type McpHttpOptions } from '../../src/mcp/http.js'
import { registrySource } from '../../src/mcp/sources.js'
import { RegistryCache } from '../../src/registry/cache.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import type { Registry } from '../../src/registry/registry.js'
import { createSelector } from '../../src/selector/from-name.js'
import type { Context } from '../../src/server/context.js'
import { endpoint } from '../../src/server/endpoint.js'
import { createService, type Service } from '../../src/service/service.js'
import { MicroTransport } from '../../src/transport/micro-transport.js'

/** The service the MCP tests call: every kind of answer an agent can get. */
export class Greeter {
  Hello = endpoint(
    {
      request: z.object({ name: z.string().min(1) }),
      response: z.object({ message: z.string() }),
      description: 'Greets someone by name.',
      examples: [{ name: 'Alice' }],
      readOnly: true,
    },
    async (req) => ({ message: `Hello ${req.name}` }),
  )

  Refuse = endpoint({ description: 'Always refuses.' }, async () => {
    throw new MicroError('greeter', 'not yours', 409)
  })

  Order = endpoint({ scopes: ['orders:write'], destructive: false }, async (req: { item?: string }) => ({
    ordered: req.item ?? 'nothing',
  }))

  Wipe = endpoint({ destructive: true, idempotent: true }, async () => ({ wiped: true }))

  /** What the call carried: metadata names (values of secrets never), the request. */
  async Echo(req: unknown, ctx: Context) {
    return {
      request: req,
      traceparent: ctx.metadata.traceparent,
      tool: ctx.metadata['micro-mcp-tool'],
      bearer: ctx.metadata.authorization !== undefined,
    }
  }

  async Names() {
    return ['ann', 'bob']
  }
}

/** A service on loopback registered in `registry` (undefined: MICRO_REGISTRY's, mDNS by default), stopped by the caller. */
export async function startService(
  registry: Registry | undefined,
  name: string,
  handlers: object[],
  options: { namespace?: string; auth?: boolean } = {},
): Promise<Service> {
  const service = createService({
    name,
    namespace: options.namespace,
    registry,
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
    shutdownTimeout: 1000,
  })
  for (const handler of handlers) service.handle(handler)
  await service.run()
  return service
}

/** A client that finds services in `registry` and always goes over the network. */
export function networkClient(registry: Registry, namespace?: string): Client {
  return new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport(),
    selector: createSelector(),
    namespace,
    local: false,
    retry: { retries: 0 },
  })
}

export interface McpWorld {
  registry: MemoryRegistry
  client: Client
  engine: McpEngine
  mcp: McpHttp
  server: Server
  url: string
  services: Service[]
  close(): Promise<void>
}

/** Greeter, an engine over it and `/mcp` on port 0; `engine` and `http` options are passed on. */
export async function startMcpWorld(
  options: { engine?: Partial<McpOptions>; http?: McpHttpOptions; registry?: MemoryRegistry } = {},
): Promise<McpWorld> {
  const registry = options.registry ?? new MemoryRegistry()
  const services = [await startService(registry, 'greeter', [new Greeter()])]
  const client = networkClient(registry)
  const engine = new Engine({
    services: registrySource(registry),
    client,
    logger: createLogger({ level: 'silent' }),
    ...options.engine,
  })
  await engine.start()
  const mcp = createMcpHttpHandler(engine, options.http)
  const server = createServer((req, res) => {
    if (!mcp.handle(req, res)) {
      res.writeHead(404)
      res.end()
    }
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  return {
    registry,
    client,
    engine,
    mcp,
    server,
    url: `http://127.0.0.1:${port}/mcp`,
    services,
    async close() {
      await mcp.close()
      engine.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await Promise.all(services.map((s) => s.stop()))
      await client.close()
      await registry.close()
    },
  }
}
