import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { newHeaders } from '../transport/frame.js'
import type { InboundCall } from '../transport/transport.js'
import type { Context } from './context.js'
import { endpoint } from './endpoint.js'
import { Server } from './server.js'

const quiet = createLogger({ level: 'silent' })

type TestCall = InboundCall & { reply: Promise<{ body: Uint8Array }> }

function call(endpointName: string, body: unknown, extra: Partial<InboundCall> = {}): TestCall {
  let respond!: (body: Uint8Array) => void
  let fail!: (error: MicroError) => void
  const reply = new Promise<{ body: Uint8Array }>((resolve, reject) => {
    respond = (b) => resolve({ body: b })
    fail = reject
  })
  return {
    endpoint: endpointName,
    headers: newHeaders(),
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    timeout: undefined,
    remote: '127.0.0.1:1',
    protocol: 'test',
    onCancel: undefined,
    respond,
    fail,
    reply,
    ...extra,
  }
}

/** Hand a call to the server and wait for its answer. */
function serve(server: Server, c: TestCall): Promise<{ body: Uint8Array }> {
  server.unary(c)
  return c.reply
}

const decode = (reply: { body: Uint8Array }) => JSON.parse(Buffer.from(reply.body).toString())

class Greeter {
  prefix = 'Hello'
  async Hello(req: { name: string }) {
    return { message: `${this.prefix} ${req.name}` }
  }
  _private() {
    return 'hidden'
  }
  /** A helper: TypeScript's `private` is gone at run time, so the name keeps it off the wire. */
  private format(name: string) {
    return `${this.prefix} ${name}`
  }
  helper() {
    return this.format('x')
  }
  async *Chat(input: AsyncIterable<{ text: string }>) {
    for await (const m of input) yield { text: m.text.toUpperCase() }
  }
}

describe('server', () => {
  test('a class instance serves its uppercase-first methods as Class.Method, never helpers', async () => {
    const server = new Server({ name: 'greeter', logger: quiet }).handle(new Greeter())
    assert.deepEqual(
      server.endpoints().map((e) => [e.name, e.metadata]),
      [
        ['Greeter.Chat', { stream: 'true' }],
        ['Greeter.Hello', {}],
      ],
    )
    assert.deepEqual(decode(await serve(server, call('Greeter.Hello', { name: 'Alice' }))), {
      message: 'Hello Alice',
    })
  })

  test('plain objects need a name; duplicates and empty handlers are refused', () => {
    const server = new Server({ name: 's', logger: quiet })
    assert.throws(() => server.handle({ Ping: async () => 'pong' }), /needs a name/)
    server.handle({ Ping: async () => 'pong' }, { name: 'Health' })
    assert.throws(() => server.handle({ Ping: async () => 'pong' }, { name: 'Health' }), /already registered/)
    assert.throws(() => server.handle({}, { name: 'Empty' }), /no endpoints/)
  })

  test('lowercase, _names and private helpers are never served; a handler with none is refused with the rule', async () => {
    const server = new Server({ name: 'greeter', logger: quiet }).handle(new Greeter())
    for (const hidden of ['Greeter.helper', 'Greeter.format', 'Greeter._private', 'Greeter.constructor']) {
      await assert.rejects(serve(server, call(hidden, {})), (e: MicroError) => e.code === 404, hidden)
    }
    class Helpers {
      validate() {}
      _cache() {}
    }
    assert.throws(
      () => server.handle(new Helpers()),
      (e: Error) =>
        /handler Helpers has no endpoints/.test(e.message) &&
        /uppercase letter/.test(e.message) &&
        /endpoints: \['hello'\]/.test(e.message),
    )
    assert.throws(() => server.handle({ ping: async () => 'pong' }, { name: 'Lower' }), /no endpoints/)
  })

  test('endpoints: [...] names the served methods explicitly, lowercase ones included', async () => {
    const server = new Server({ name: 's', logger: quiet })
    const api = { hello: async () => 'hi', Other: async () => 'not named', secret: async () => 'x' }
    server.handle(api, { name: 'Api', endpoints: ['hello'] })
    assert.deepEqual(
      server.endpoints().map((e) => e.name),
      ['Api.hello'],
    )
    assert.equal(decode(await serve(server, call('Api.hello', {}))), 'hi')
    await assert.rejects(serve(server, call('Api.Other', {})), (e: MicroError) => e.code === 404)
    server.handle(api, { name: 'Opts', endpoints: { secret: { idempotent: true } } })
    assert.deepEqual(
      server.endpoints().filter((e) => e.name.startsWith('Opts.')),
      [{ name: 'Opts.secret', metadata: { idempotent: 'true' } }],
    )
    assert.throws(() => server.handle(api, { name: 'Bad', endpoints: ['missing'] }), /no method missing/)
    assert.throws(() => server.handle(api, { name: 'Bad', endpoints: ['toString'] }), /no method toString/)
    assert.throws(() => server.handle(api, { name: 'Bad', endpoints: ['constructor'] }), /method name/)
  })

  test('endpoint({ idempotent: true }) is published as endpoint metadata', () => {
    class Store {
      Get = endpoint({ idempotent: true }, async (req: { key: string }) => req.key)
      async Put() {}
    }
    const server = new Server({ name: 'store', logger: quiet }).handle(new Store())
    assert.deepEqual(server.endpoints(), [
      { name: 'Store.Get', metadata: { idempotent: 'true' } },
      { name: 'Store.Put', metadata: {} },
    ])
  })

  test('unknown endpoints are 404, bad JSON is 400, unknown content types are 415', async () => {
    const server = new Server({ name: 'greeter', logger: quiet }).handle(new Greeter())
    await assert.rejects(
      serve(server, call('Greeter.Nope', {})),
      (e: MicroError) => e.code === 404 && /Greeter.Nope/.test(e.detail),
    )
    await assert.rejects(
      serve(server, call('Greeter.Hello', '{"name":')),
      (e: MicroError) => e.code === 400 && /invalid application\/json/.test(e.detail),
    )
    const headers = newHeaders()
    headers['content-type'] = 'text/weird'
    await assert.rejects(
      serve(server, call('Greeter.Hello', {}, { headers })),
      (e: MicroError) => e.code === 415,
    )
    await assert.rejects(
      serve(server, call('Greeter.Chat', {})),
      (e: MicroError) => e.code === 400 && /streaming/.test(e.detail),
    )
  })

  test('a thrown plain Error is a 500 with its message and no stack', async () => {
    const server = new Server({ name: 'svc', logger: quiet }).handle(
      {
        Fail: async () => {
          throw new Error('database exploded')
        },
      },
      { name: 'Thing' },
    )
    await assert.rejects(serve(server, call('Thing.Fail', {})), (e: MicroError) => {
      assert.deepEqual(e.toJSON(), {
        id: 'svc',
        code: 500,
        detail: 'database exploded',
        status: 'Internal Server Error',
      })
      assert.ok(!JSON.stringify(e).includes('at '))
      return true
    })
  })

  test('request schemas validate on arrival with a 400 listing the issues, and are published', async () => {
    class Users {
      Create = endpoint(
        {
          request: z.object({ name: z.string().min(2), age: z.number().int() }),
          response: z.object({ id: z.string() }),
        },
        async (req) => ({ id: `${req.name}-${req.age}` }),
      )
    }
    const server = new Server({ name: 'users', logger: quiet }).handle(new Users())
    assert.deepEqual(decode(await serve(server, call('Users.Create', { name: 'Al', age: 3 }))), {
      id: 'Al-3',
    })
    await assert.rejects(serve(server, call('Users.Create', { name: 'A', age: 'x' })), (e: MicroError) => {
      assert.equal(e.code, 400)
      assert.match(e.detail, /name:/)
      assert.match(e.detail, /age:/)
      return true
    })
    const record = server.endpoints()[0]!
    const request = record.request as { type?: string; properties: object }
    assert.equal(request.type, 'object')
    assert.deepEqual(Object.keys(request.properties), ['name', 'age'])
    assert.equal((record.response as { type?: string }).type, 'object')
  })

  test('wrappers run around handlers, first one outermost, and see the endpoint', async () => {
    const order: string[] = []
    const server = new Server({ name: 'greeter', logger: quiet })
      .handle(new Greeter())
      .wrap((next, info) => async (req, ctx) => {
        order.push(`a>${info.name}`)
        const res = await next(req, ctx)
        order.push('a<')
        return res
      })
    server.wrap((next) => async (req, ctx) => {
      order.push('b>')
      return next(req, ctx)
    })
    await serve(server, call('Greeter.Hello', { name: 'x' }))
    assert.deepEqual(order, ['a>Greeter.Hello', 'b>', 'a<'])
  })

  test('a wrapper written as the README shows works for streaming endpoints too', async () => {
    const seen: string[] = []
    const server = new Server({ name: 'greeter', logger: quiet })
      .handle(new Greeter())
      .wrap((next) => async (req, ctx) => next(req, ctx))
      .wrap((next, info) => (req, ctx) => {
        seen.push(`${info.name} stream=${info.stream}`)
        return next(req, ctx)
      })
    const messages = (async function* () {
      yield Buffer.from(JSON.stringify({ text: 'a' }))
      yield Buffer.from(JSON.stringify({ text: 'b' }))
    })()
    const sent: unknown[] = []
    let ended!: () => void
    let failed!: (e: MicroError) => void
    const done = new Promise<void>((resolve, reject) => {
      ended = resolve
      failed = reject
    })
    server.stream(
      {
        endpoint: 'Greeter.Chat',
        headers: newHeaders(),
        body: new Uint8Array(0),
        timeout: undefined,
        remote: 'x',
        protocol: 'test',
      },
      {
        headers: newHeaders(),
        messages,
        signal: new AbortController().signal,
        send: async (body) => {
          sent.push(JSON.parse(Buffer.from(body).toString()))
        },
        end: () => ended(),
        fail: (e) => failed(e),
      },
    )
    await done
    assert.deepEqual(sent, [{ text: 'A' }, { text: 'B' }])
    assert.deepEqual(seen, ['Greeter.Chat stream=true'])
  })

  test('a handler past its deadline fails with 408 and sees its signal abort', async () => {
    let signalled: unknown
    const server = new Server({ name: 'slow', logger: quiet }).handle(
      {
        Wait: (_req: unknown, ctx: Context) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              signalled = ctx.signal.reason
              resolve('late')
            })
          }),
      },
      { name: 'Slow' },
    )
    await assert.rejects(
      serve(server, call('Slow.Wait', {}, { timeout: 50 })),
      (e: MicroError) => e.code === 408,
    )
    assert.ok(signalled instanceof MicroError && signalled.code === 408)
    assert.equal(server.activeCalls, 0)
  })

  test('a caller cancel aborts the handler', async () => {
    let aborted = false
    const server = new Server({ name: 's', logger: quiet }).handle(
      {
        Wait: (_req: unknown, ctx: Context) =>
          new Promise(() => {
            ctx.signal.addEventListener('abort', () => {
              aborted = true
            })
          }),
      },
      { name: 'H' },
    )
    const inbound = call('H.Wait', {})
    const pending = serve(server, inbound)
    await new Promise((r) => setImmediate(r))
    inbound.onCancel?.(new MicroError('x', 'gone', 499))
    await assert.rejects(pending, (e: MicroError) => e.code === 499)
    assert.ok(aborted)
  })

  test('draining refuses new calls with 503 and waitIdle waits for calls in flight', async () => {
    let release!: () => void
    const server = new Server({ name: 's', logger: quiet }).handle(
      { Hold: () => new Promise<string>((r) => (release = () => r('done'))) },
      { name: 'H' },
    )
    const pending = serve(server, call('H.Hold', {}))
    server.startDraining()
    await assert.rejects(serve(server, call('H.Hold', {})), (e: MicroError) => e.code === 503)
    assert.equal(await server.waitIdle(20), false)
    release()
    assert.equal(await server.waitIdle(1000), true)
    assert.equal(decode(await pending), 'done')
  })
})
