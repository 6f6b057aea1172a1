/**
 * Services and a gateway for the gateway tests: real services on loopback ports, found
 * through one in-process registry, and a gateway listening on port 0.
 */
import { MicroError } from '../../src/errors/errors.js'
import { createLogger } from '../../src/logger/logger.js'
import type { GatewayOptions } from '../../src/platform/gateway/options.js'
import { type ServedGateway, serveGateway } from '../../src/platform/gateway/serve.js'
import { MemoryRegistry } from '../../src/registry/memory.js'
import type { Registry } from '../../src/registry/registry.js'
import type { Context } from '../../src/server/context.js'
import { createService, type Service } from '../../src/service/service.js'

/** The greeter every gateway test calls. Endpoints are its Uppercase methods. */
export class Greeter {
  constructor(readonly version = '1.0.0') {}
  async Hello(req: { name?: string }) {
    return { message: `Hello ${req.name ?? 'stranger'}` }
  }
  async SayHi(req: { name?: string }) {
    return { message: `Hi ${req.name ?? 'stranger'}` }
  }
  /** Answers with what it got: the request and the metadata. */
  async Echo(req: unknown, ctx: Context) {
    return { request: req, metadata: ctx.metadata }
  }
  async Version() {
    return { version: this.version }
  }
  async Nothing() {
    return undefined
  }
  async Refuse() {
    throw new MicroError('greeter', 'not yours', 409)
  }
  async Throw(): Promise<never> {
    throw new Error('handler blew up')
  }
  async Slow(_req: unknown, ctx: Context) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
    return { done: true }
  }
  /** A server stream: `count` ticks, then the end (or an error at `failAt`). */
  async *Ticks(input: AsyncIterable<{ count?: number; failAt?: number }>) {
    for await (const req of input) {
      for (let i = 0; i < (req.count ?? 3); i++) {
        if (i === req.failAt) throw new MicroError('greeter', 'tick failed', 422)
        yield { i }
      }
      return
    }
  }
  /** A bidirectional stream: one reply per message. */
  async *Chat(input: AsyncIterable<{ name: string }>) {
    for await (const req of input) yield { message: `Hello ${req.name}` }
  }
}

export class Say {
  async Hello(req: { name?: string }) {
    return { said: `hello ${req.name ?? ''}`.trim() }
  }
}

export class Baz {
  async Cat() {
    return { cat: 'meow' }
  }
}

export class Foo {
  async Bar() {
    return { bar: true }
  }
}

/** A service on loopback, registered in `registry`, stopped by the caller. */
export async function startService(
  registry: Registry,
  name: string,
  handlers: object[],
  options: { version?: string; namespace?: string } = {},
): Promise<Service> {
  const service = createService({
    name,
    version: options.version ?? '1.0.0',
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

/** A gateway and the greeter (plus `say`, `foo.bar`, `v1.foo`) behind it. */
export interface GatewayWorld {
  registry: MemoryRegistry
  gateway: ServedGateway
  base: string
  services: Service[]
  close(): Promise<void>
}

/** Start the greeter and friends and a gateway on port 0 with `options`. */
export async function startWorld(options: GatewayOptions = {}): Promise<GatewayWorld> {
  const registry = new MemoryRegistry()
  const services = [
    await startService(registry, 'greeter', [new Greeter(), new Say()]),
    await startService(registry, 'foo.bar', [new Baz()]),
    await startService(registry, 'v1.foo', [new Foo()]),
  ]
  const gateway = await serveGateway({
    address: '127.0.0.1:0',
    registry,
    logger: createLogger({ level: 'silent' }),
    rateLimit: false,
    ...options,
  })
  return {
    registry,
    gateway,
    base: `http://${gateway.address}`,
    services,
    async close() {
      await gateway.close()
      await Promise.all(services.map((s) => s.stop()))
      await registry.close()
    },
  }
}
