import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../src/errors/errors.js'
import type { Service } from '../src/service/service.js'
import { FrameType } from '../src/transport/frame.js'
import { type FaultLog, startFaultService } from './support/fault-service.js'
import { RawMicro } from './support/raw-micro.js'

const MAX = 64 * 1024

describe('bad input: the server answers with a clear error and keeps serving', () => {
  let service: Service
  let log: FaultLog
  let address: string
  const call = (endpoint: string, body: unknown, options = {}) =>
    service.client.call('faulty', endpoint, body, { address, retries: 0, ...options })
  const healthy = async () => assert.deepEqual(await call('Fault.Echo', { ok: 1 }), { ok: 1 })
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`http://${address}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    })

  before(async () => {
    ;({ service, log } = await startFaultService(MAX))
    address = service.address as string
  })
  after(() => service.stop())

  test('random bytes on the port: refused with a message, connection closed, server fine', async () => {
    for (const first of [0x00, 0x7f, 0xff]) {
      const socket = connect(Number(address.split(':')[1]), '127.0.0.1')
      const reply: Buffer[] = []
      socket.on('data', (d: Buffer) => reply.push(d))
      socket.write(Buffer.concat([Buffer.from([first]), randomBytes(300)]))
      await new Promise((r) => socket.on('close', r))
      assert.match(Buffer.concat(reply).toString(), /unrecognised protocol/)
    }
    await healthy()
  })

  test('garbage after the micro version byte: GOAWAY with the reason, then close', async () => {
    const raw = await RawMicro.connect(address)
    raw.socket.write(Buffer.concat([Buffer.from([1, 99]), randomBytes(64)]))
    const goAway = await raw.frameFor(0, FrameType.GoAway)
    assert.match(goAway.body.toString(), /protocol error: unknown frame type 99/)
    await raw.whenClosed()
    await healthy()
  })

  test('HTTP garbage gets a 400', async () => {
    const socket = connect(Number(address.split(':')[1]), '127.0.0.1')
    const reply: Buffer[] = []
    socket.on('data', (d: Buffer) => reply.push(d))
    socket.write('POST / HTTP/1.1\r\nContent-Length: nope\r\n\r\n')
    await new Promise((r) => socket.on('close', r))
    assert.match(Buffer.concat(reply).toString(), /^HTTP\/1.1 400/)
    await healthy()
  })

  test('a truncated frame followed by a hang-up costs nothing; a split frame is reassembled', async () => {
    const whole = RawMicro.requestBytes(1, 'Fault.Echo', '{"split":true}')
    const cut = await RawMicro.connect(address)
    cut.socket.write(whole.subarray(0, 10))
    cut.close()
    const raw = await RawMicro.connect(address)
    raw.socket.write(whole.subarray(0, 20))
    await new Promise((r) => setTimeout(r, 30))
    raw.socket.write(whole.subarray(20))
    const reply = await raw.frameFor(1)
    assert.equal(reply.type, FrameType.Data)
    assert.deepEqual(JSON.parse(reply.body.toString()), { split: true })
    raw.close()
    await healthy()
  })

  test('an oversize frame is refused with 413 and the same connection goes on', async () => {
    const raw = await RawMicro.connect(address)
    raw.request(1, 'Fault.Echo', Buffer.alloc(MAX + 1, 0x20))
    raw.request(2, 'Fault.Echo', '{"after":"oversize"}')
    const refused = await raw.frameFor(1)
    assert.equal(refused.type, FrameType.Error)
    assert.equal(JSON.parse(refused.body.toString()).code, 413)
    const next = await raw.frameFor(2)
    assert.deepEqual(JSON.parse(next.body.toString()), { after: 'oversize' })
    raw.close()
    await assert.rejects(call('Fault.Echo', 'x'.repeat(MAX + 10)), (e: MicroError) => e.code === 413)
    await healthy()
  })

  test('an oversize HTTP body is a 413', async () => {
    const res = await post('/Fault/Echo', Buffer.alloc(MAX + 1, 0x20))
    assert.equal(res.status, 413)
    assert.equal(((await res.json()) as { code: number }).code, 413)
    const ok = await post('/Fault/Echo', '{"a":1}')
    assert.deepEqual(await ok.json(), { a: 1 })
  })

  test('invalid JSON is a 400 naming the problem, over HTTP and over the micro protocol', async () => {
    const res = await post('/', '{"name":', { 'micro-endpoint': 'Fault.Echo' })
    assert.equal(res.status, 400)
    assert.match(((await res.json()) as { detail: string }).detail, /invalid application\/json body/)
    const raw = await RawMicro.connect(address)
    raw.request(5, 'Fault.Echo', '{oops')
    const frame = await raw.frameFor(5)
    assert.equal(frame.type, FrameType.Error)
    assert.equal(JSON.parse(frame.body.toString()).code, 400)
    raw.close()
    await healthy()
  })

  test('unknown endpoints are 404; a request without an endpoint is 400; GET is 405', async () => {
    await assert.rejects(
      call('Fault.Missing', {}),
      (e: MicroError) => e.code === 404 && /Fault.Missing/.test(e.detail),
    )
    const noEndpoint = await post('/', '{}')
    assert.equal(noEndpoint.status, 400)
    const get = await fetch(`http://${address}/Fault/Echo`)
    assert.equal(get.status, 405)
    const raw = await RawMicro.connect(address)
    raw.socket.write(RawMicro.requestBytes(3, '', '{}'))
    assert.equal(JSON.parse((await raw.frameFor(3)).body.toString()).code, 400)
    raw.close()
  })

  test('a handler that throws gives 500 without a stack; MicroErrors keep their code', async () => {
    await assert.rejects(call('Fault.Throw', {}), (e: MicroError) => {
      assert.deepEqual(e.toJSON(), {
        id: 'faulty',
        code: 500,
        detail: 'handler blew up',
        status: 'Internal Server Error',
      })
      return true
    })
    const res = await post('/Fault/Throw', '{}')
    const body = await res.text()
    assert.equal(res.status, 500)
    assert.ok(!body.includes('.ts:'), 'no stack trace in the response')
    await assert.rejects(
      call('Fault.Refuse', {}),
      (e: MicroError) => e.code === 403 && e.detail === 'not allowed',
    )
    await healthy()
  })

  test('a handler that hangs past its deadline: 408 to the caller, abort to the handler', async () => {
    const before = log.aborted.length
    await assert.rejects(call('Fault.Hang', {}, { timeout: 100 }), (e: MicroError) => e.code === 408)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(log.aborted.length, before + 1)
    const res = await post('/Fault/Hang', '{}', { 'micro-timeout': '100' })
    assert.equal(res.status, 408)
    await healthy()
    assert.equal(service.server.activeCalls, 0)
  })

  test('a caller that disconnects mid-call: the handler is aborted, nothing leaks', async () => {
    const before = log.aborted.length
    const raw = await RawMicro.connect(address)
    raw.request(9, 'Fault.Hang', '{}')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(service.server.activeCalls, 1)
    raw.close()
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(log.aborted.length, before + 1)
    assert.equal(service.server.activeCalls, 0)
    const controller = new AbortController()
    const http = fetch(`http://${address}/Fault/Hang`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: controller.signal,
    })
    await new Promise((r) => setTimeout(r, 50))
    controller.abort()
    await assert.rejects(http)
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(log.aborted.length, before + 2)
    await healthy()
  })

  test('a reused call id on one connection is refused for that call only', async () => {
    const raw = await RawMicro.connect(address)
    raw.request(4, 'Fault.Hang', '{}')
    raw.request(4, 'Fault.Echo', '{}')
    const refused = await raw.frameFor(4)
    assert.match(JSON.parse(refused.body.toString()).detail, /already in use/)
    raw.request(6, 'Fault.Echo', '{"still":"fine"}')
    assert.deepEqual(JSON.parse((await raw.frameFor(6)).body.toString()), { still: 'fine' })
    raw.close()
  })
})
