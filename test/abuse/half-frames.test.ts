import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Service } from '../../src/service/service.js'
import { FrameType } from '../../src/transport/frame.js'
import { startFaultService } from '../support/fault-service.js'
import { RawMicro } from '../support/raw-micro.js'
import { until } from '../support/until.js'

/** Send `bytes` one a second (`everyMs`) until all are sent or the server closes; the count sent. */
async function trickle(raw: RawMicro, bytes: Buffer, everyMs: number): Promise<number> {
  let sent = 0
  while (sent < bytes.length && !raw.closed) {
    raw.socket.write(bytes.subarray(sent, sent + 1))
    sent++
    await until(() => raw.closed, 'pacing', everyMs).catch(() => {})
  }
  return sent
}

function goAwayOf(raw: RawMicro): { code: number; detail: string } {
  const frame = raw.frames.find((f) => f.type === FrameType.GoAway)
  assert.ok(frame, 'the server said why it closed the connection')
  return JSON.parse(frame.body.toString()) as { code: number; detail: string }
}

/**
 * The micro protocol's slowloris: frames sent a byte a second, and frames announced big and
 * never finished. Each connection must be closed with a GoAway naming the timeout.
 */
describe('abuse: half-sent micro frames are cut off', () => {
  let service: Service
  let address: string
  const healthy = async () =>
    assert.deepEqual(await service.client.call('faulty', 'Fault.Echo', { ok: 1 }, { address }), { ok: 1 })

  before(async () => {
    ;({ service } = await startFaultService(4 * 1024 * 1024, {
      limits: { headerTimeout: 300, requestTimeout: 600 },
    }))
    address = service.address as string
  })
  after(() => service.stop())

  test('20 connections sending a request frame at 1 byte/s: GoAway 408, closed', async () => {
    const frame = RawMicro.requestBytes(1, 'Fault.Echo', '{"slow":true}')
    const connections = await Promise.all(Array.from({ length: 20 }, () => RawMicro.connect(address)))
    const sent = await Promise.all(connections.map((raw) => trickle(raw, frame, 1000)))
    await Promise.all(connections.map((raw) => raw.whenClosed(10_000)))
    for (const [i, raw] of connections.entries()) {
      assert.ok((sent[i] as number) < frame.length, 'closed before the frame was complete')
      const reason = goAwayOf(raw)
      assert.equal(reason.code, 408)
      assert.match(reason.detail, /not completed within/)
    }
    await healthy()
  })

  test('20 frames announced at 4 MiB and never finished: GoAway 408, closed', async () => {
    const header = RawMicro.requestBytes(1, 'Fault.Echo', Buffer.alloc(4 * 1024 * 1024 - 100, 0x20))
    const connections = await Promise.all(Array.from({ length: 20 }, () => RawMicro.connect(address)))
    // The 16-byte header, the header block and a little of the body; the rest never comes.
    for (const raw of connections) raw.socket.write(header.subarray(0, 1000))
    await Promise.all(connections.map((raw) => raw.whenClosed(10_000)))
    for (const raw of connections) {
      const reason = goAwayOf(raw)
      assert.equal(reason.code, 408)
      assert.match(reason.detail, /frame not completed within 600 ms/)
    }
    await healthy()
  })

  test('calls in flight on a connection that stalls a frame are canceled with it', async () => {
    const raw = await RawMicro.connect(address)
    raw.request(1, 'Fault.Hang', '{}')
    await until(() => service.server.activeCalls === 1, 'the call to start')
    raw.socket.write(RawMicro.requestBytes(2, 'Fault.Echo', '{}').subarray(0, 5))
    await raw.whenClosed(10_000)
    assert.equal(goAwayOf(raw).code, 408)
    await until(() => service.server.activeCalls === 0, 'the call to be canceled')
    await healthy()
  })
})
