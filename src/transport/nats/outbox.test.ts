import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { NatsConnection } from '@nats-io/transport-node'
import { testServer } from '../../testing/servers.js'
import { MuxFlag } from './mux-frame.js'
import { Mailer, Outbox } from './outbox.js'

/**
 * A connection stand-in whose publish fails while `refusing` is set; `writes` counts the
 * times it was told to write what it buffered (nats.js's `protocol.flushPending`).
 */
function connection() {
  const sent: { subject: string; bytes: number }[] = []
  const state = { refusing: false, writes: 0, sentAtWrite: [] as number[] }
  const nc = {
    info: { max_payload: 1024 * 1024 },
    publish(subject: string, data: Uint8Array) {
      if (state.refusing) throw new Error('connection closed')
      sent.push({ subject, bytes: data.byteLength })
    },
    protocol: {
      flushPending() {
        state.writes++
        state.sentAtWrite.push(sent.length)
      },
    },
  } as unknown as NatsConnection
  return { nc, sent, state }
}

describe('nats outbox', () => {
  test('a batch sent early is written at once; one sent at the end of the turn is left to nats.js', async () => {
    const { nc, sent, state } = connection()
    const outbox = new Outbox(new Mailer(nc), 'node._mux', (seq) => `inbox.${seq}`)
    const body = Buffer.from('{}')
    for (let id = 1; id <= 31; id++)
      outbox.request(MuxFlag.Message | MuxFlag.End, id, 'A.B', 1000, undefined, body)
    assert.equal(state.writes, 0)
    outbox.request(MuxFlag.Message | MuxFlag.End, 32, 'A.B', 1000, undefined, body)
    assert.deepEqual(state.sentAtWrite, [1], 'written right after the early batch was published')
    outbox.request(MuxFlag.Message | MuxFlag.End, 33, 'A.B', 1000, undefined, body)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(sent.length, 2, 'the rest went at the end of the turn')
    assert.equal(state.writes, 1, 'nats.js writes that one itself')
  })

  test('a batch sent early while a frame is queued, and failing, is reported with the number the frame got', () => {
    const { nc, sent, state } = connection()
    const failed: number[] = []
    const outbox = new Outbox(
      new Mailer(nc),
      'node._mux',
      (seq) => `inbox.${seq}`,
      (seq) => failed.push(seq),
    )
    const body = Buffer.from('{}')
    const batches: number[] = []
    for (let id = 1; id < 32; id++)
      batches.push(outbox.request(MuxFlag.Message | MuxFlag.End, id, 'A.B', 1000, undefined, body))
    assert.equal(sent.length, 0, 'below the early-flush count nothing is sent yet')
    state.refusing = true
    // The 32nd frame triggers the early flush of its own batch, which fails.
    const batch = outbox.request(MuxFlag.Message | MuxFlag.End, 32, 'A.B', 1000, undefined, body)
    assert.deepEqual(failed, [batch])
    assert.equal(outbox.failedSeq, batch)
    assert.match(String(outbox.failure), /connection closed/)
    assert.ok(
      batches.every((b) => b === batch),
      'the earlier frames were in the same batch',
    )
    // The next frame is in a new batch, which has not failed.
    state.refusing = false
    const next = outbox.request(MuxFlag.Message | MuxFlag.End, 33, 'A.B', 1000, undefined, body)
    assert.equal(next, batch + 1)
    assert.notEqual(outbox.failedSeq, next)
    outbox.flush()
    assert.equal(sent.length, 1)
  })
})

describe('nats outbox on a real connection', { skip: testServer('nats').skip }, () => {
  test('nats.js still has the flush an early batch relies on', async () => {
    const { connect } = await import('@nats-io/transport-node')
    const nc = await connect({ servers: testServer('nats').address })
    try {
      const protocol = (nc as unknown as { protocol?: { flushPending?: unknown } }).protocol
      assert.equal(
        typeof protocol?.flushPending,
        'function',
        'upgrade of nats.js: early batches now wait for the turn to end',
      )
    } finally {
      await nc.close()
    }
  })
})
