import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { MicroError } from '../../src/errors/errors.js'
import type { Service } from '../../src/service/service.js'
import { FrameType } from '../../src/transport/frame.js'
import { type FaultLog, startFaultService } from '../support/fault-service.js'
import { RawMicro } from '../support/raw-micro.js'

const MiB = 1024 * 1024
/** 2 million levels of `[`: JSON.parse spent over a second on this, blocking every caller. */
const DEEP = Buffer.concat([Buffer.alloc(2 * MiB, '['), Buffer.alloc(2 * MiB, ']')])

/**
 * Deeply nested JSON is refused by a byte scan before JSON.parse runs, over HTTP, over the
 * micro protocol and in stream messages; other callers are answered meanwhile.
 */
describe('abuse: deeply nested JSON', () => {
  let service: Service
  let log: FaultLog
  let address: string
  const post = (body: Buffer | string) =>
    fetch(`http://${address}/Fault/Count`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })

  before(async () => {
    ;({ service, log } = await startFaultService(8 * MiB))
    address = service.address as string
  })
  after(() => service.stop())

  test('a 4 MB nested body is a 400 before parsing, and a concurrent good call answers', async () => {
    const before = log.counted
    const [deep, good] = await Promise.all([
      post(DEEP),
      service.client.call('faulty', 'Fault.Echo', { ok: 1 }, { address }),
    ])
    assert.equal(deep.status, 400)
    assert.match(((await deep.json()) as MicroError).detail, /JSON nested deeper than 128 levels/)
    assert.deepEqual(good, { ok: 1 })
    const raw = await RawMicro.connect(address)
    raw.request(1, 'Fault.Count', DEEP, { 'content-type': 'application/json' })
    raw.request(2, 'Fault.Echo', '{"after":"deep"}')
    const refused = await raw.frameFor(1)
    assert.equal(refused.type, FrameType.Error)
    assert.equal(JSON.parse(refused.body.toString()).code, 400)
    assert.deepEqual(JSON.parse((await raw.frameFor(2)).body.toString()), { after: 'deep' })
    raw.close()
    assert.equal(log.counted, before, 'the handler never ran')
  })

  test('nesting up to the limit passes; brackets inside strings do not count', async () => {
    assert.equal((await post(at(128))).status, 200)
    assert.equal((await post(at(129))).status, 400)
    const text = JSON.stringify({ s: `${'['.repeat(500)}\\"{{{{`, t: ['"[', '\\', '[[['] })
    const res = await post(text)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), JSON.parse(text))
  })

  test('a deep message on a stream fails the stream with a 400', async () => {
    const stream = service.client.stream<unknown, { i: number }>('faulty', 'Fault.Ticks', { address })
    await stream.send(nested(200))
    await assert.rejects(
      (async () => {
        for await (const _ of stream) {
          // no tick comes: the message is refused before the handler sees it
        }
      })(),
      (e: MicroError) => e.code === 400 && /nested deeper than 128/.test(e.detail),
    )
  })
})

function at(n: number): string {
  return `${'['.repeat(n)}${']'.repeat(n)}`
}

function nested(depth: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = { v: value }
  return value
}
