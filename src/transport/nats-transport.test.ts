import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { connect as tcpConnect } from 'node:net'
import { after, describe, test } from 'node:test'
import { acquireNats } from '../engines/nats.js'
import { MicroError } from '../errors/errors.js'
import { testServer } from '../testing/servers.js'
import { TcpProxy } from '../testing/tcp-proxy.js'
import { transportConformance } from './conformance.js'
import { natsNodeSubject } from './nats/subject.js'
import { NatsTransport } from './nats-transport.js'
import type { Dispatcher, InboundCall, OutboundCall, StreamChannel } from './transport.js'
import { isUnsent } from './transport-errors.js'

const nats = testServer('nats')
const prefix = `t-${randomUUID().slice(0, 8)}`

const request = (body: Uint8Array | string, extra: Partial<OutboundCall> = {}): OutboundCall => ({
  endpoint: 'Test.Echo',
  headers: {},
  body: typeof body === 'string' ? Buffer.from(body) : body,
  timeout: 5000,
  signal: undefined,
  ...extra,
})
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString()
const waitFor = async (check: () => boolean, ms = 2000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('nats transport', { skip: nats.skip }, () => {
  transportConformance('nats', () => new NatsTransport({ address: nats.address, prefix: `${prefix}.node` }), {
    deadAddress: `${prefix}.nobody`,
  })

  const cleanup: (() => Promise<unknown> | unknown)[] = []
  after(async () => {
    for (const fn of cleanup.reverse()) await fn()
  })
  const transport = () => {
    const t = new NatsTransport({ address: nats.address, prefix: `${prefix}.node` })
    cleanup.push(() => t.close())
    return t
  }
  const echo: Dispatcher = {
    unary: (call) => call.respond(call.body),
    stream: (_call, channel) => {
      void (async () => {
        for await (const m of channel.messages) await channel.send(m)
        channel.end()
      })()
    },
  }

  test('listen: a subject is used as given; host:port gets a unique subject under the prefix', async () => {
    const t = transport()
    const subject = natsNodeSubject('ns 1', 'go.micro.greeter', 'greeter-1', prefix)
    assert.equal(subject, `${prefix}.ns_1.go_micro_greeter.greeter-1`)
    const named = await t.listen(subject, echo)
    assert.equal(named.address, subject)
    const picked = await t.listen('127.0.0.1:0', echo)
    assert.match(picked.address, new RegExp(`^${prefix}\\.node\\.\\w+$`))
    assert.equal(text((await t.call(named.address, request('a'))).body), 'a')
    assert.equal(text((await t.call(picked.address, request('b'))).body), 'b')
    await named.close()
    await picked.close()
  })

  test('sizes: a request over max_payload is a 413 before sending; an oversize reply is a 413 too', async () => {
    const t = transport()
    const dispatcher: Dispatcher = {
      unary: (call) => call.respond(call.endpoint === 'Test.Big' ? Buffer.alloc(1_100_000) : call.body),
      stream: echo.stream,
    }
    const listener = await t.listen('', dispatcher)
    await assert.rejects(
      t.call(listener.address, request(Buffer.alloc(1_100_000))),
      (e: unknown) => e instanceof MicroError && e.code === 413 && /max_payload/.test(e.detail),
    )
    await assert.rejects(
      t.call(listener.address, request('{}', { endpoint: 'Test.Big' })),
      (e: unknown) => e instanceof MicroError && e.code === 413 && /reply of 1100000 bytes/.test(e.detail),
    )
    const stream = await t.stream(listener.address, {
      endpoint: 'S.S',
      headers: {},
      timeout: 5000,
      signal: undefined,
    })
    await assert.rejects(
      stream.send(Buffer.alloc(1_100_000)),
      (e: unknown) => e instanceof MicroError && e.code === 413,
    )
    await stream.send(Buffer.from('still open'))
    stream.end()
    const got: string[] = []
    for await (const m of stream.messages) got.push(text(m))
    assert.deepEqual(got, ['still open'])
    assert.equal(text((await t.call(listener.address, request('ok'))).body), 'ok')
  })

  test('headers travel in binary frames: a line break cannot forge a header; a name too long is a 400', async () => {
    const t = transport()
    const seen: InboundCall[] = []
    const listener = await t.listen('', {
      unary: (call) => {
        seen.push(call)
        call.respond(call.body)
      },
      stream: echo.stream,
    })
    const value = ' line\r\nmicro-endpoint: Evil.Call '
    await t.call(listener.address, request('{}', { headers: { 'x-bad': value } }))
    assert.equal(seen[0]?.endpoint, 'Test.Echo')
    assert.equal(seen[0]?.headers['x-bad'], value, 'the value arrives exactly, spaces and all')
    await assert.rejects(
      t.call(listener.address, request('{}', { headers: { ['x'.repeat(200)]: '1' } })),
      (e: unknown) => e instanceof MicroError && e.code === 400 && /header name/.test(e.detail),
    )
    await assert.rejects(
      t.call('not a subject', request('{}')),
      (e: unknown) => e instanceof MicroError && e.code === 400,
    )
    assert.equal(text((await t.call(listener.address, request('next'))).body), 'next')
    assert.equal(seen.length, 2)
  })

  test('instances on one subject share its calls; a cancel reaches the instance running the call', async () => {
    const subject = `${prefix}.shared`
    const served = [0, 0]
    const waiting: InboundCall[] = []
    let canceledOn = -1
    const instance = (n: number): Dispatcher => ({
      unary(call) {
        served[n] = (served[n] ?? 0) + 1
        if (call.endpoint !== 'Test.Wait') return call.respond(call.body)
        waiting.push(call)
        call.onCancel = () => {
          canceledOn = n
        }
      },
      stream: echo.stream,
    })
    const a = await transport().listen(subject, instance(0))
    const b = await transport().listen(subject, instance(1))
    const client = transport()
    // One instance takes each batch of requests (the calls of one event-loop turn), so the
    // calls are made over several turns.
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.call(subject, request(String(i)))))
    }
    assert.ok((served[0] ?? 0) > 0 && (served[1] ?? 0) > 0, `calls spread: ${served}`)
    const before = [...served]
    const controller = new AbortController()
    const pending = client.call(subject, request('{}', { endpoint: 'Test.Wait', signal: controller.signal }))
    await waitFor(() => waiting.length === 1)
    const ranOn = served[0] !== before[0] ? 0 : 1
    controller.abort()
    await assert.rejects(pending, (e: unknown) => e instanceof MicroError && e.code === 499)
    await waitFor(() => canceledOn !== -1)
    assert.equal(canceledOn, ranOn)
    await a.close()
    await b.close()
  })

  test('any NATS client can call: Micro-Endpoint as a NATS header, errors marked with Micro-Error', async () => {
    const t = transport()
    const listener = await t.listen('', {
      unary(call) {
        if (call.endpoint === 'Test.Fail') call.fail(new MicroError('svc', 'nope', 404))
        else
          call.respond(
            Buffer.from(JSON.stringify({ endpoint: call.endpoint, ct: call.headers['content-type'] })),
          )
      },
      stream: echo.stream,
    })
    const link = acquireNats({ address: nats.address, usedBy: 'test' })
    cleanup.push(() => link.release())
    const nc = await link.ready
    const { headers } = await import('@nats-io/transport-node')
    const h = headers()
    h.set('Micro-Endpoint', 'Greeter.Hello')
    h.set('Content-Type', 'application/json')
    const reply = await nc.request(listener.address, '{"name":"x"}', { timeout: 2000, headers: h })
    assert.deepEqual(reply.json(), { endpoint: 'Greeter.Hello', ct: 'application/json' })
    h.set('Micro-Endpoint', 'Test.Fail')
    const failed = await nc.request(listener.address, '{}', { timeout: 2000, headers: h })
    assert.equal(failed.headers?.get('micro-error'), '1')
    assert.deepEqual(failed.json(), { id: 'svc', code: 404, detail: 'nope', status: 'Not Found' })
  })

  test('garbage on a node’s subjects does not hurt it; the next good call is served', async () => {
    const t = transport()
    let streams = 0
    const listener = await t.listen('', {
      unary: echo.unary,
      stream(call, channel: StreamChannel) {
        streams++
        echo.stream(call, channel)
      },
    })
    const link = acquireNats({ address: nats.address, usedBy: 'test' })
    cleanup.push(() => link.release())
    const nc = await link.ready
    for (let i = 0; i < 20; i++) {
      nc.publish(listener.address, randomBytes(i * 13))
      nc.publish(`${listener.address}._ctl`, randomBytes(i * 7))
      nc.publish(`${listener.address}._ctl`, Buffer.from([1, 5, 0, 0, 0, 0, 0, 0, ...randomBytes(i)]))
    }
    // With a reply subject, garbage gets a 400 back.
    const answer = await nc.request(listener.address, randomBytes(64), { timeout: 2000 })
    assert.equal(answer.headers?.get('micro-error'), '1')
    assert.equal(MicroError.parse(answer.string()).code, 400)
    // Malformed header blocks, written on a raw connection since no client would send them.
    const raw = tcpConnect(
      Number(new URL(nats.address as string).port),
      new URL(nats.address as string).hostname,
    )
    cleanup.push(() => raw.destroy())
    await new Promise((r) => raw.once('connect', r))
    raw.write('CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n')
    for (const block of [
      'NATS/1.0\r\nbad key: v\r\n\r\n',
      'garbage\r\n\r\n',
      'NATS/1.0\r\nmicro-stream: 1\r\n\r\n',
    ]) {
      const size = Buffer.byteLength(block)
      raw.write(`HPUB ${listener.address} ${prefix}.raw.reply ${size} ${size + 3}\r\n${block}xyz\r\n`)
    }
    raw.write('PING\r\n')
    await new Promise((r) => raw.once('data', r))
    assert.equal(text((await t.call(listener.address, request('alive'))).body), 'alive')
    assert.equal(streams, 0)
  })

  test('after drain() the subject is unserved: new calls are unsent 503s', async () => {
    const t = transport()
    const listener = await t.listen('', echo)
    await listener.drain()
    await assert.rejects(
      t.call(listener.address, request('x')),
      (e: unknown) => e instanceof MicroError && e.code === 503 && isUnsent(e),
    )
    await assert.rejects(
      t.stream(listener.address, { endpoint: 'S.S', headers: {}, timeout: 2000, signal: undefined }),
      (e: unknown) => e instanceof MicroError && e.code === 503 && isUnsent(e),
    )
  })

  test('a stream the caller abandons is aborted on the server; so is one whose caller vanished', async () => {
    const address = new URL(nats.address as string)
    const proxy = await TcpProxy.start(`${address.hostname}:${address.port}`)
    cleanup.push(() => proxy.close())
    const t = new NatsTransport({ address: nats.address, keepAlive: 100, keepAliveTimeout: 300 })
    const caller = new NatsTransport({
      address: `nats://${proxy.address}`,
      keepAlive: 100,
      keepAliveTimeout: 300,
    })
    cleanup.push(
      () => t.close(),
      () => caller.close(),
    )
    const servers: StreamChannel[] = []
    const listener = await t.listen('', {
      unary: echo.unary,
      stream: (_call, channel) => {
        servers.push(channel)
      },
    })
    const open = () =>
      caller.stream(listener.address, { endpoint: 'S.S', headers: {}, timeout: undefined, signal: undefined })
    const stream = await open()
    await waitFor(() => servers.length === 1)
    // The caller stops reading: that cancels the stream at the server.
    await stream.messages[Symbol.asyncIterator]().return?.()
    await waitFor(() => servers[0]?.signal.aborted === true)
    assert.equal((servers[0]?.signal.reason as MicroError | undefined)?.code, 499)

    await open()
    await waitFor(() => servers.length === 2)
    // The caller's connection goes and stays away: the server's pings find nobody.
    proxy.refuse()
    proxy.cut()
    await waitFor(() => servers[1]?.signal.aborted === true, 3000)
    assert.match((servers[1]?.signal.reason as MicroError | undefined)?.detail ?? '', /caller is gone/)
  })
})
