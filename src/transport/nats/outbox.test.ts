import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { NatsConnection } from '@nats-io/transport-node'
import { MuxFlag } from './mux-frame.js'
import { Mailer, Outbox } from './outbox.js'

/** A connection stand-in whose publish fails while `refusing` is set. */
function connection() {
  const sent: { subject: string; bytes: number }[] = []
  const state = { refusing: false }
  const nc = {
    info: { max_payload: 1024 * 1024 },
    publish(subject: string, data: Uint8Array) {
      if (state.refusing) throw new Error('connection closed')
      sent.push({ subject, bytes: data.byteLength })
    },
  } as unknown as NatsConnection
  return { nc, sent, state }
}

describe('nats outbox', () => {
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
