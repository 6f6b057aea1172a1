import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'
import { RawMicro } from '../support/raw-micro.js'
import { until } from '../support/until.js'

const REQUEST =
  'POST /Fault/Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'

/**
 * stop() (what SIGTERM runs) with idle keep-alive HTTP connections and half-sent requests.
 * Before, stop waited for Node's 5 s keep-alive timer to close idle connections and for the
 * whole shutdown timeout on a half-sent request. Now it closes them at once and waits only
 * for calls in flight.
 */
describe('abuse: stop with idle and half-sent connections', () => {
  test('idle and half-sent connections close at once; a call in flight finishes first', async () => {
    // A long shutdown timeout: anything that waits for it shows up against the 5 s guard.
    const { service, log } = await startFaultService(64 * 1024, { shutdownTimeout: 60_000 })
    const address = service.address as string
    const idle = await Promise.all(Array.from({ length: 20 }, () => RawHttp.connect(address)))
    for (const c of idle) c.write(REQUEST)
    await Promise.all(idle.map((c) => c.whenText(/^HTTP\/1.1 200 [\s\S]*\{\}$/)))
    const halfHead = await RawHttp.connect(address)
    halfHead.write(REQUEST.slice(0, 30))
    const halfBody = await RawHttp.connect(address)
    halfBody.write(REQUEST.slice(0, -1))
    const halfFrame = await RawMicro.connect(address)
    halfFrame.socket.write(RawMicro.requestBytes(1, 'Fault.Echo', '{}').subarray(0, 20))
    const busy = await RawHttp.connect(address)
    busy.write(REQUEST.replace('/Fault/Echo', '/Fault/Gated'))
    await until(() => service.server.activeCalls === 1, 'the gated call to start')

    let stopped = false
    const stopping = service.stop().then(() => {
      stopped = true
    })
    const others = [...idle, halfHead, halfBody]
    await Promise.all([...others.map((c) => c.whenClosed(5000)), halfFrame.whenClosed(5000)])
    assert.equal(stopped, false, 'stop waits for the call in flight')
    assert.equal(busy.closed, false)
    log.openGate()
    const guard = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('stop took over 5 s')), 5000).unref(),
    )
    await Promise.race([stopping, guard])
    assert.match(busy.text(), /^HTTP\/1.1 200 [\s\S]*Connection: close[\s\S]*\{\}$/)
    await busy.whenClosed(5000)
  })
})
