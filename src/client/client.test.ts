import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { RegistryCache } from '../registry/cache.js'
import { MemoryRegistry } from '../registry/memory.js'
import { LeastInFlightSelector } from '../selector/least-in-flight.js'
import type { Context } from '../server/context.js'
import { createService, type Service } from '../service/service.js'
import { MicroTransport } from '../transport/micro-transport.js'
import { Client, type ClientOptions } from './client.js'

const quiet = createLogger({ level: 'silent' })
const cleanup: (() => Promise<void>)[] = []
after(async () => {
  for (const fn of cleanup.reverse()) await fn()
})

async function startService(
  registry: MemoryRegistry,
  name: string,
  handler: object,
  options: { version?: string; handlerName?: string } = {},
) {
  const service = createService({
    name,
    version: options.version ?? '1.0.0',
    registry,
    logger: quiet,
    handleSignals: false,
    shutdownTimeout: 500,
  })
  service.handle(handler, options.handlerName ? { name: options.handlerName } : undefined)
  await service.start()
  cleanup.push(() => service.stop())
  return service
}

function remoteClient(registry: MemoryRegistry, options: Partial<ClientOptions> = {}): Client {
  const client = new Client({
    lookup: new RegistryCache(registry),
    transport: new MicroTransport({ dialTimeout: 1000 }),
    selector: new LeastInFlightSelector({ baseBackoff: 5000 }),
    local: false,
    ...options,
  })
  cleanup.push(() => client.close())
  return client
}

/** Wait (bounded, with head-room for a loaded machine) until `check` holds. */
async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    assert.ok(Date.now() < end, `timed out waiting: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

class Greeter {
  calls = 0
  async Hello(req: { name: string }, ctx: Context) {
    this.calls++
    return { message: `Hello ${req.name}`, protocol: ctx.protocol, user: ctx.metadata['x-user'] }
  }
  async Fail(): Promise<never> {
    this.calls++
    throw new Error('nope')
  }
  async *Count(input: AsyncIterable<{ upTo: number }>) {
    for await (const req of input) for (let i = 1; i <= req.upTo; i++) yield { i }
  }
}

describe('client', () => {
  test('calls a remote service found in the registry, with metadata, via call and a typed proxy', async () => {
    const registry = new MemoryRegistry()
    await startService(registry, 'greeter', new Greeter())
    const client = remoteClient(registry)
    const reply = await client.call(
      'greeter',
      'Greeter.Hello',
      { name: 'Alice' },
      { metadata: { 'X-User': 'u7' } },
    )
    assert.deepEqual(reply, { message: 'Hello Alice', protocol: 'micro', user: 'u7' })
    const greeter = client.service<Greeter>('greeter')
    const typed = await greeter.Hello({ name: 'Bob' })
    assert.equal(typed.message, 'Hello Bob')
    const counts: number[] = []
    for await (const { i } of greeter.Count([{ upTo: 3 }])) counts.push(i)
    assert.deepEqual(counts, [1, 2, 3])
  })

  test('in-process services are called without the network', async () => {
    const registry = new MemoryRegistry()
    const service = await startService(registry, 'greeter-local', new Greeter())
    const reply = await service.client.call(
      'greeter-local',
      'Greeter.Hello',
      { name: 'Al' },
      { metadata: { 'x-user': 'me' } },
    )
    assert.deepEqual(reply, { message: 'Hello Al', protocol: 'local', user: 'me' })
    await assert.rejects(
      service.client.call('greeter-local', 'Greeter.Nope', {}),
      (e: MicroError) => e.code === 404,
    )
    const counts: number[] = []
    for await (const { i } of service.client.service<Greeter>('greeter-local').Count([{ upTo: 2 }]))
      counts.push(i)
    assert.deepEqual(counts, [1, 2])
  })

  test('MessagePack and raw bytes travel end to end', async () => {
    const registry = new MemoryRegistry()
    await startService(
      registry,
      'codecs',
      {
        Echo: async (req: unknown, ctx: Context) => ({ req, type: ctx.metadata['content-type'] }),
        Reverse: async (req: Buffer) => Buffer.from(req).reverse(),
      },
      { handlerName: 'C' },
    )
    const client = remoteClient(registry)
    const packed = await client.call(
      'codecs',
      'C.Echo',
      { a: 1, list: [1, 'two'] },
      { contentType: 'application/msgpack' },
    )
    assert.deepEqual(packed, { req: { a: 1, list: [1, 'two'] }, type: 'application/msgpack' })
    const reversed = (await client.call('codecs', 'C.Reverse', Buffer.from([1, 2, 3]), {
      contentType: 'application/octet-stream',
    })) as Buffer
    assert.deepEqual([...reversed], [3, 2, 1])
  })

  test('wrappers added to a running in-process service apply to the next call', async () => {
    const registry = new MemoryRegistry()
    const service = await startService(registry, 'greeter-wrapped-late', new Greeter())
    await service.client.call('greeter-wrapped-late', 'Greeter.Hello', { name: 'a' })
    let wrapped = 0
    service.wrap((next) => (req, ctx) => {
      wrapped++
      return next(req, ctx)
    })
    await service.client.call('greeter-wrapped-late', 'Greeter.Hello', { name: 'b' })
    assert.equal(wrapped, 1)
  })

  test('a stopped in-process service is no longer called in-process', async () => {
    const registry = new MemoryRegistry()
    const greeter = new Greeter()
    const local = await startService(registry, 'greeter-gone', greeter)
    const caller = await startService(
      registry,
      'caller-of-gone',
      { Noop: async () => 0 },
      { handlerName: 'N' },
    )
    for (let i = 0; i < 3; i++) await caller.client.call('greeter-gone', 'Greeter.Hello', { name: 'x' })
    assert.equal(greeter.calls, 3)
    await local.stop()
    await assert.rejects(
      caller.client.call('greeter-gone', 'Greeter.Hello', { name: 'x' }),
      (e: MicroError) => e.code === 503,
    )
    assert.equal(greeter.calls, 3)
  })

  test('an unknown service is a clear 503', async () => {
    const client = remoteClient(new MemoryRegistry())
    await assert.rejects(
      client.call('ghost', 'Ghost.Boo', {}),
      (e: MicroError) => e.code === 503 && /service ghost not found in namespace micro/.test(e.detail),
    )
  })

  test('a node that refuses connections is retried on another node and set aside', async () => {
    const registry = new MemoryRegistry()
    const greeter = new Greeter()
    await startService(registry, 'greeter-retry', greeter)
    await registry.register({
      name: 'greeter-retry',
      version: '1.0.0',
      metadata: {},
      endpoints: [],
      nodes: [{ id: 'dead-node', address: '127.0.0.1:1', metadata: {} }],
    })
    const client = remoteClient(registry)
    for (let i = 0; i < 20; i++) {
      assert.equal(
        ((await client.call('greeter-retry', 'Greeter.Hello', { name: 'x' })) as { message: string }).message,
        'Hello x',
      )
    }
    assert.equal(greeter.calls, 20)
  })

  test('handler errors are not retried', async () => {
    const registry = new MemoryRegistry()
    const greeter = new Greeter()
    await startService(registry, 'greeter-fail', greeter)
    const client = remoteClient(registry)
    await assert.rejects(
      client.call('greeter-fail', 'Greeter.Fail', {}),
      (e: MicroError) => e.code === 500 && e.detail === 'nope',
    )
    assert.equal(greeter.calls, 1)
  })

  test('a draining node answers 503 and the call goes to another node', async () => {
    const registry = new MemoryRegistry()
    const a = new Greeter()
    const b = new Greeter()
    const serviceA = await startService(registry, 'greeter-drain', a)
    await startService(registry, 'greeter-drain', b)
    const client = remoteClient(registry, { selector: new LeastInFlightSelector() })
    // Warm the connections, then drain A's server without deregistering it.
    for (let i = 0; i < 10; i++) await client.call('greeter-drain', 'Greeter.Hello', { name: 'w' })
    serviceA.server.startDraining()
    const before = b.calls
    for (let i = 0; i < 10; i++) await client.call('greeter-drain', 'Greeter.Hello', { name: 'x' })
    assert.equal(b.calls - before, 10)
  })

  test('the deadline travels as remaining time and cancellation reaches the handler', async () => {
    const registry = new MemoryRegistry()
    let seenDeadline: number | undefined
    let aborted: unknown
    await startService(
      registry,
      'slow',
      {
        Deadline: async (_req: unknown, ctx: Context) => {
          seenDeadline = ctx.deadline
          return { ok: true }
        },
        Hang: (_req: unknown, ctx: Context) =>
          new Promise(() => {
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason
            })
          }),
      },
      { handlerName: 'Slow' },
    )
    const client = remoteClient(registry)
    const sent = Date.now()
    await client.call('slow', 'Slow.Deadline', {}, { timeout: 2000 })
    const returned = Date.now()
    // 2 s from when the server got the call: not before it was sent, not after the reply came.
    assert.ok(
      seenDeadline !== undefined && seenDeadline >= sent + 1990 && seenDeadline <= returned + 2000,
      `deadline ${seenDeadline} for a call sent at ${sent}, answered by ${returned}`,
    )
    await assert.rejects(
      client.call('slow', 'Slow.Hang', {}, { timeout: 100 }),
      (e: MicroError) => e.code === 408,
    )
    await until(() => aborted !== undefined, 'the handler saw its signal abort')
    assert.ok(aborted instanceof MicroError, `aborted with ${aborted}`)
    aborted = undefined
    const controller = new AbortController()
    const pending = client.call('slow', 'Slow.Hang', {}, { signal: controller.signal })
    setTimeout(() => controller.abort(), 30)
    await assert.rejects(pending, (e: MicroError) => e.code === 499)
    await until(() => aborted !== undefined, 'the handler saw the cancel')
    assert.ok(aborted instanceof MicroError && aborted.code === 499, `aborted with ${aborted}`)
  })

  test('a handler calling on with its ctx passes the deadline and metadata down', async () => {
    const registry = new MemoryRegistry()
    let inner: { deadline?: number; user?: string } = {}
    await startService(
      registry,
      'inner',
      {
        Who: async (_req: unknown, ctx: Context) => {
          inner = { deadline: ctx.deadline, user: ctx.metadata['x-user'] }
          return {}
        },
      },
      { handlerName: 'Inner' },
    )
    const outer = await startService(
      registry,
      'outer',
      {
        Go: async (_req: unknown, ctx: Context) => {
          await outerService.client.call('inner', 'Inner.Who', {}, { context: ctx })
          return { outerDeadline: ctx.deadline }
        },
      },
      { handlerName: 'Outer' },
    )
    const outerService: Service = outer
    const client = remoteClient(registry)
    const reply = (await client.call(
      'outer',
      'Outer.Go',
      {},
      { timeout: 3000, metadata: { 'x-user': 'carol' } },
    )) as {
      outerDeadline: number
    }
    assert.equal(inner.user, 'carol')
    // In-process (the outer service calls on without a socket): the very same deadline.
    assert.equal(inner.deadline, reply.outerDeadline)
  })

  test('in-process, a handler calling on hands its own deadline down exactly, however late the callee starts', async () => {
    const registry = new MemoryRegistry()
    let innerDeadline: number | undefined
    const innerService = await startService(
      registry,
      'exact-inner',
      {
        Read: async (_req: unknown, ctx: Context) => {
          innerDeadline = ctx.deadline
          return {}
        },
      },
      { handlerName: 'Exact' },
    )
    // The callee starts late: a wrapper holds the thread before the handler reads its deadline.
    innerService.wrap((next) => (req, ctx) => {
      const until = Date.now() + 30
      while (Date.now() < until) {}
      return next(req, ctx)
    })
    const outer = await startService(
      registry,
      'exact-outer',
      {
        Go: async (_req: unknown, ctx: Context) => {
          const deadline = ctx.deadline
          await outer.client.call('exact-inner', 'Exact.Read', {}, { context: ctx })
          return { deadline }
        },
      },
      { handlerName: 'Exact' },
    )
    const reply = (await remoteClient(registry).call('exact-outer', 'Exact.Go', {}, { timeout: 5000 })) as {
      deadline: number
    }
    assert.equal(innerDeadline, reply.deadline, 'the same instant, not 30 ms later')
  })

  test('breaking out of a stream cancels it on the server', async () => {
    const registry = new MemoryRegistry()
    let aborted = false
    await startService(
      registry,
      'ticker',
      {
        async *Ticks(_input: AsyncIterable<unknown>, ctx: Context) {
          ctx.signal.addEventListener('abort', () => {
            aborted = true
          })
          for (let i = 0; ; i++) {
            yield { i }
            await new Promise((r) => setTimeout(r, 5))
          }
        },
      },
      { handlerName: 'T' },
    )
    const client = remoteClient(registry)
    const seen: number[] = []
    for await (const { i } of client
      .service<{ Ticks(input: AsyncIterable<unknown>): AsyncIterable<{ i: number }> }>('ticker')
      .Ticks([{}])) {
      seen.push(i)
      if (i === 2) break
    }
    assert.deepEqual(seen, [0, 1, 2])
    await until(() => aborted, 'the server handler saw the cancel')
  })

  test('a retry policy can name which errors to retry', async () => {
    const registry = new MemoryRegistry()
    const greeter = new Greeter()
    await startService(registry, 'greeter-retry-500', greeter)
    const client = remoteClient(registry, {
      retry: { retries: 2, backoffBase: 1, retryOn: (error) => error.code === 500 },
    })
    await assert.rejects(
      client.call('greeter-retry-500', 'Greeter.Fail', {}),
      (e: MicroError) => e.code === 500,
    )
    assert.equal(greeter.calls, 3, 'the first attempt and two retries')
    await assert.rejects(
      client.call('greeter-retry-500', 'Greeter.Fail', {}, { retries: 0 }),
      (e: MicroError) => e.code === 500,
    )
    assert.equal(greeter.calls, 4)
  })

  test('client wrappers run around every call, first one outermost', async () => {
    const registry = new MemoryRegistry()
    await startService(registry, 'greeter-wrap', new Greeter())
    const order: string[] = []
    const client = remoteClient(registry).wrap(
      (next) => async (req) => {
        order.push(`outer:${req.endpoint}`)
        return next({ ...req, options: { ...req.options, metadata: { 'x-user': 'wrapped' } } })
      },
      (next) => async (req) => {
        order.push('inner')
        return next(req)
      },
    )
    const reply = (await client.call('greeter-wrap', 'Greeter.Hello', { name: 'w' })) as { user: string }
    assert.equal(reply.user, 'wrapped')
    assert.deepEqual(order, ['outer:Greeter.Hello', 'inner'])
  })

  test('versions filter nodes; a proxy resolves methods or says which handler to pick', async () => {
    const registry = new MemoryRegistry()
    await startService(registry, 'multi', { Ping: async () => 'v1' }, { handlerName: 'A', version: '1' })
    await startService(registry, 'multi', { Ping: async () => 'v2' }, { handlerName: 'B', version: '2' })
    const client = remoteClient(registry)
    assert.equal(await client.call('multi', 'B.Ping', {}, { version: '2' }), 'v2')
    const proxy = client.service<{ Ping(): Promise<string> }>('multi')
    await assert.rejects(proxy.Ping(), /several handlers/)
    const pinned = client.service<{ Ping(): Promise<string> }>('multi', { handler: 'A', version: '1' })
    assert.equal(await pinned.Ping(), 'v1')
  })
})
