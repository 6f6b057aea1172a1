import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Service } from '../../src/service/service.js'
import { FrameType } from '../../src/transport/frame.js'
import { startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'
import { RawMicro } from '../support/raw-micro.js'

const REQUEST =
  'POST /Fault/Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'

/** Connections with nothing in flight are closed after the idle timeout; busy ones are not. */
describe('abuse: idle connections', () => {
  let service: Service
  let address: string

  before(async () => {
    ;({ service } = await startFaultService(64 * 1024, { limits: { idleTimeout: 400 } }))
    address = service.address as string
  })
  after(() => service.stop())

  test('an idle keep-alive HTTP connection and an idle micro connection are closed', async () => {
    assert.deepEqual(await service.client.call('faulty', 'Fault.Echo', { n: 1 }, { address }), { n: 1 })
    const http = await RawHttp.connect(address)
    http.write(REQUEST)
    await http.whenText(/^HTTP\/1.1 200 /)
    const micro = await RawMicro.connect(address)
    micro.request(1, 'Fault.Echo', '{}')
    await micro.frameFor(1)
    // Pings are not calls: they do not keep a connection open.
    micro.socket.write(RawMicro.frameBytes(FrameType.Ping, 0, 0, undefined))
    await Promise.all([http.whenClosed(), micro.whenClosed()])
    const goAway = micro.frames.find((f) => f.type === FrameType.GoAway)
    assert.equal(goAway?.body.toString(), 'idle connection closed')
    // The client's pooled connection, idle since before these, was told to go away too;
    // its next call just dials again.
    assert.deepEqual(await service.client.call('faulty', 'Fault.Echo', { n: 2 }, { address }), { n: 2 })
  })

  test('a connection with a call in flight stays open past the idle timeout', async () => {
    const micro = await RawMicro.connect(address)
    micro.request(1, 'Fault.Hang', '{}')
    const idle = await RawMicro.connect(address)
    idle.request(1, 'Fault.Echo', '{}')
    await idle.frameFor(1)
    await idle.whenClosed()
    // The idle one was closed after its timeout; the busy one, opened at the same time, was not.
    assert.equal(micro.closed, false)
    micro.socket.write(RawMicro.frameBytes(FrameType.Cancel, 1, 1, undefined))
    await micro.whenClosed()
  })
})
