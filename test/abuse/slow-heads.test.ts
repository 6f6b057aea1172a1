import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Service } from '../../src/service/service.js'
import { startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'
import { until } from '../support/until.js'

const HEAD =
  'POST /Fault/Echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n'

/**
 * Slowloris on HTTP: requests that never finish their head or body. Node's own
 * headersTimeout/requestTimeout do nothing on the service port (its HTTP server never
 * listens itself), so without the listener's limits every one of these stayed open.
 */
describe('abuse: slow HTTP heads and bodies are cut off', () => {
  let service: Service
  let address: string
  const healthy = async () => {
    const res = await fetch(`http://${address}/Fault/Echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ok":1}',
    })
    assert.deepEqual(await res.json(), { ok: 1 })
  }

  before(async () => {
    ;({ service } = await startFaultService(64 * 1024, {
      limits: { headerTimeout: 300, requestTimeout: 600 },
    }))
    address = service.address as string
  })
  after(() => service.stop())

  test('20 requests sending their head at 1 byte/s: each is answered 408 and closed', async () => {
    const connections = await Promise.all(Array.from({ length: 20 }, () => RawHttp.connect(address)))
    const trickles = connections.map((c) => c.trickle(HEAD, 1000))
    await Promise.all(connections.map((c) => c.whenClosed()))
    await Promise.all(trickles)
    for (const c of connections) {
      assert.match(c.text(), /^HTTP\/1.1 408 /)
      assert.ok(c.sent < HEAD.length, `closed before the head was complete (sent ${c.sent} bytes)`)
    }
    await healthy()
  })

  test('a head sent whole with a body that trickles: 408 and closed', async () => {
    const connections = await Promise.all(Array.from({ length: 10 }, () => RawHttp.connect(address)))
    for (const c of connections) c.write(HEAD)
    const trickles = connections.map((c) => c.trickle('{"a":"bcd"}', 200))
    await Promise.all(connections.map((c) => c.whenClosed()))
    await Promise.all(trickles)
    for (const c of connections) assert.match(c.text(), /^HTTP\/1.1 408 /)
    await healthy()
  })

  test('a connection that never sends a byte is closed', async () => {
    const connections = await Promise.all(Array.from({ length: 10 }, () => RawHttp.connect(address)))
    await Promise.all(connections.map((c) => c.whenClosed()))
    for (const c of connections) assert.equal(c.text(), '')
    await healthy()
  })

  test('a keep-alive connection serves request after request, each within the limits', async () => {
    const c = await RawHttp.connect(address)
    for (let i = 1; i <= 3; i++) {
      c.write(`${HEAD}{"n":${i}     }`.replace('Content-Length: 11', 'Content-Length: 12'))
      await until(() => (c.text().match(/HTTP\/1.1 200 /g) ?? []).length === i, `response ${i}`)
    }
    assert.equal(c.closed, false)
    c.close()
  })
})
