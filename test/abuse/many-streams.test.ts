import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Service } from '../../src/service/service.js'
import { FrameFlag, FrameType } from '../../src/transport/frame.js'
import { type FaultLog, startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'
import { RawMicro } from '../support/raw-micro.js'
import { until } from '../support/until.js'

const STREAMS = 40
const MESSAGES = 255 // one short of a stream's own 256-message pause
const MESSAGE_SIZE = 64 * 1024
const MiB = 1024 * 1024

/**
 * One connection opens 40 streams whose handler never reads and sends each 255 messages of
 * 64 KiB (650 MiB). Each stream stays under its own 256-message pause, so before the
 * per-connection byte budget the server read and kept all of it. Now it stops reading that
 * socket at 16 MiB and TCP pushes back on the sender.
 */
describe('abuse: many streams on one connection', () => {
  let service: Service
  let log: FaultLog
  let address: string

  before(async () => {
    ;({ service, log } = await startFaultService(MiB))
    address = service.address as string
  })
  after(() => service.stop())

  test('the server stops reading past the connection budget; RSS grows < 128 MiB; others are served', async () => {
    await service.client.call('faulty', 'Fault.Echo', {}, { address })
    const rssBefore = process.memoryUsage().rss
    const raw = await RawMicro.connect(address)
    const headers = { 'micro-endpoint': 'Fault.Hold', 'content-type': 'application/json' }
    for (let id = 1; id <= STREAMS; id++)
      raw.socket.write(RawMicro.frameBytes(FrameType.Request, FrameFlag.Stream, id, headers))
    await until(() => log.holding === STREAMS, 'every stream to be open')
    const body = Buffer.alloc(MESSAGE_SIZE, 0x31)
    const frames = Array.from({ length: STREAMS }, (_, i) =>
      RawMicro.frameBytes(FrameType.Data, 0, i + 1, undefined, body),
    )
    const total = STREAMS * MESSAGES * MESSAGE_SIZE
    let sent = 0
    let pushedBack = false
    let peakRss = rssBefore
    for (let round = 0; round < MESSAGES && !pushedBack; round++) {
      for (const frame of frames) {
        if (!(await raw.write(frame))) {
          pushedBack = true
          break
        }
        sent += MESSAGE_SIZE
      }
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }
    peakRss = Math.max(peakRss, process.memoryUsage().rss)
    assert.ok(pushedBack, `the server kept reading: ${sent / MiB} MiB of ${total / MiB} MiB taken`)
    assert.ok(sent < total / 4, `pushed back after ${(sent / MiB).toFixed(1)} MiB`)
    const growth = peakRss - rssBefore
    assert.ok(growth < 128 * MiB, `RSS grew ${(growth / MiB).toFixed(0)} MiB`)
    // Other callers (another connection) are served while this one is held back.
    assert.deepEqual(await service.client.call('faulty', 'Fault.Echo', { ok: 1 }, { address }), { ok: 1 })
    raw.close()
    await until(() => log.holding === 0, 'the held streams to end with the connection')
  })
})

describe('limits: a connection held back by its budget reads again as handlers catch up', () => {
  test('256 messages of 128 KiB through a 1 MiB budget to a reader that starts late: all arrive', async () => {
    const { service, log } = await startFaultService(MiB, { limits: { maxConnectionBytes: MiB } })
    try {
      const address = service.address as string
      const stream = service.client.stream<{ pad: string }, { count: number }>('faulty', 'Fault.Tally', {
        address,
      })
      const message = { pad: 'x'.repeat(128 * 1024) }
      let sent = 0
      const sending = (async () => {
        for (let i = 0; i < 256; i++) {
          await stream.send(message)
          sent++
        }
        await stream.closeSend()
      })()
      // 32 MiB cannot all be taken while the reader waits: past 1 MiB the server stops
      // reading and TCP holds the sender back. Once the reader starts, everything flows.
      await until(() => sent >= 16, 'the sender to pass the budget')
      log.openGate()
      await sending
      const replies: number[] = []
      for await (const reply of stream) replies.push(reply.count)
      assert.deepEqual(replies, [256])
    } finally {
      await service.stop()
    }
  })
  test('HTTP: pipelined bodies past the budget wait for the calls before them', async () => {
    const { service, log } = await startFaultService(MiB, { limits: { maxConnectionBytes: MiB } })
    try {
      const raw = await RawHttp.connect(service.address as string)
      const body = JSON.stringify({ pad: 'x'.repeat(600 * 1024) })
      const request = `POST /Fault/Gated HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
      raw.write(request.repeat(4))
      let most = 0
      await until(() => {
        most = Math.max(most, service.server.activeCalls)
        return service.server.activeCalls === 2
      }, 'two bodies (1.2 MiB) to be taken')
      log.openGate()
      const statuses = () => [...raw.text().matchAll(/HTTP\/1.1 (\d{3})/g)].map((m) => m[1])
      await until(() => {
        most = Math.max(most, service.server.activeCalls)
        return statuses().length === 4
      }, 'every response')
      assert.deepEqual(statuses(), ['200', '200', '200', '200'])
      assert.ok(most <= 2, `${most} bodies were held at once`)
      raw.close()
    } finally {
      await service.stop()
    }
  })
})
