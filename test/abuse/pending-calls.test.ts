import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Service } from '../../src/service/service.js'
import { FrameType } from '../../src/transport/frame.js'
import { type FaultLog, startFaultService } from '../support/fault-service.js'
import { RawHttp } from '../support/raw-http.js'
import { RawMicro } from '../support/raw-micro.js'
import { until } from '../support/until.js'

const LIMIT = 100
const CALLS = 5000

/**
 * One connection sends thousands of unary calls to a handler that never answers. Before
 * the per-connection cap every one was kept (100k calls: +191 MiB). Now the calls past the
 * cap are answered 503 at once, not queued, and the cap holds for HTTP too.
 */
describe('abuse: many pending unary calls on one connection', () => {
  let service: Service
  let log: FaultLog
  let address: string

  before(async () => {
    ;({ service, log } = await startFaultService(64 * 1024, { limits: { maxConnectionCalls: LIMIT } }))
    address = service.address as string
  })
  after(() => service.stop())

  test(`${CALLS} calls to a hanging handler: ${LIMIT} run, the rest get 503 at once`, async () => {
    const raw = await RawMicro.connect(address)
    const batch: Buffer[] = []
    for (let id = 1; id <= CALLS; id++) batch.push(RawMicro.requestBytes(id, 'Fault.Hang', '{}'))
    raw.socket.write(Buffer.concat(batch))
    await until(() => raw.frames.length === CALLS - LIMIT, `${CALLS - LIMIT} refusals`)
    assert.equal(service.server.activeCalls, LIMIT)
    for (const frame of raw.frames) {
      assert.equal(frame.type, FrameType.Error)
      const error = JSON.parse(frame.body.toString()) as { code: number; detail: string }
      assert.equal(error.code, 503)
      assert.match(error.detail, /too many calls in flight on this connection \(limit 100\)/)
    }
    // Other connections have their own allowance.
    assert.deepEqual(await service.client.call('faulty', 'Fault.Echo', { ok: 1 }, { address }), { ok: 1 })
    // A call finishing makes room for one more on the same connection.
    raw.request(CALLS + 1, 'Fault.Echo', '{"again":1}')
    const refused = await raw.frameFor(CALLS + 1)
    assert.equal(JSON.parse(refused.body.toString()).code, 503)
    raw.socket.write(RawMicro.frameBytes(FrameType.Cancel, 1, 1, undefined))
    await until(() => service.server.activeCalls === LIMIT - 1, 'the canceled call to end')
    raw.request(CALLS + 2, 'Fault.Echo', '{"again":2}')
    assert.deepEqual(JSON.parse((await raw.frameFor(CALLS + 2)).body.toString()), { again: 2 })
    raw.close()
    await until(() => service.server.activeCalls === 0, 'the connection’s calls to be canceled')
  })

  test('HTTP: pipelined requests past the cap are refused at once, not run', async () => {
    const raw = await RawHttp.connect(address)
    const request =
      'POST /Fault/Gated HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
    raw.write(request.repeat(LIMIT + 50))
    await until(() => service.server.activeCalls === LIMIT, `${LIMIT} calls running`)
    // HTTP/1.1 answers in order: the refusals were decided on arrival and wait their turn.
    log.openGate()
    const statuses = () => [...raw.text().matchAll(/HTTP\/1.1 (\d{3})/g)].map((m) => m[1])
    await until(() => statuses().length === LIMIT + 50, 'every response')
    assert.deepEqual(statuses(), [...Array(LIMIT).fill('200'), ...Array(50).fill('503')])
    raw.close()
  })
})
