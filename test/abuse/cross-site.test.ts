import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../../src/errors/errors.js'
import type { Service } from '../../src/service/service.js'
import { type FaultLog, startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'

/**
 * What a web page can make a browser send to a service port without a CORS preflight:
 * form, multipart and text/plain bodies, a body with no type, any Origin. None of it may
 * reach a handler. Before, a form post with a JSON body from a foreign Origin ran it.
 */
describe('abuse: cross-site requests to a service port', () => {
  let service: Service
  let log: FaultLog
  let address: string
  const ALLOWED = 'https://app.example.com'

  /** A raw request, so no client adds or drops headers. */
  async function send(headers: Record<string, string>, body = '{"name":"x"}') {
    const raw = await RawHttp.connect(address)
    const lines = Object.entries({ Host: 'evil.example', ...headers, 'Content-Length': String(body.length) })
    raw.write(
      `POST /Fault/Count HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`,
    )
    const text = await raw.whenText(/\r\n\r\n[\s\S]*\}$/)
    raw.close()
    const status = Number(/^HTTP\/1.1 (\d{3})/.exec(text)?.[1])
    const parsed = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown
    return { status, error: parsed as MicroError, body: parsed }
  }

  before(async () => {
    ;({ service, log } = await startFaultService(64 * 1024, { limits: { allowedOrigins: [ALLOWED] } }))
    address = service.address as string
  })
  after(() => service.stop())

  test('form, multipart and text/plain bodies get 415 and never reach the handler', async () => {
    const before = log.counted
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain;charset=UTF-8',
      'Text/Plain',
    ]) {
      const { status, error } = await send({ 'Content-Type': type })
      assert.equal(status, 415, type)
      assert.match(error.detail, /is not accepted .*Content-Type: application\/json/)
    }
    assert.equal(log.counted, before)
  })

  test('a foreign Origin gets 403 whatever it sends; a listed one is served', async () => {
    const before = log.counted
    for (const type of ['application/json', 'application/x-www-form-urlencoded']) {
      const { status, error } = await send({ 'Content-Type': type, Origin: 'https://evil.example' })
      assert.equal(status, 403)
      assert.match(error.detail, /Origin https:\/\/evil.example.*refused/)
    }
    assert.equal((await send({ 'Content-Type': 'application/json', Origin: 'null' })).status, 403)
    assert.equal(log.counted, before)
    const ok = await send({ 'Content-Type': 'application/json', Origin: ALLOWED })
    assert.equal(ok.status, 200)
    assert.equal(log.counted, before + 1)
  })

  test('no Content-Type: JSON without an Origin (scripts), 415 with one (a page can send it)', async () => {
    const before = log.counted
    const script = await send({})
    assert.equal(script.status, 200)
    assert.deepEqual(script.body, { name: 'x' })
    const page = await send({ Origin: ALLOWED })
    assert.equal(page.status, 415)
    assert.match(page.error.detail, /must name its Content-Type/)
    assert.equal(log.counted, before + 1)
  })

  test('other content types no codec knows are a 415 from the server', async () => {
    const before = log.counted
    const { status } = await send({ 'Content-Type': 'application/xml' }, '{"x":1}')
    assert.equal(status, 415)
    assert.equal(log.counted, before)
  })
})
