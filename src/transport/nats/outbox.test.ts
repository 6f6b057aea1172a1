import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { NatsConnection } from '@nats-io/transport-node'
import { testServer } from '../../testing/servers.js'
import { MuxFlag, MuxFrame } from './mux-frame.js'
import { Mailer, Outbox } from './outbox.js'

/**
 * A connection stand-in whose publish fails while `refusing` is set; `writes` counts the
 * times it was told to write what it buffered (nats.js's `protocol.flushPending`), and
 * `protocol.connected` plays nats.js's flag (false while it reconnects).
 */
function connection() {
  const sent: { subject: string; bytes: number; text: string }[] = []
  const state = { refusing: false, writes: 0, sentAtWrite: [] as number[] }
  const protocol = {
    connected: true,
    flushPending() {
      state.writes++
      state.sentAtWrite.push(sent.length)
    },
  }
  const nc = {
    info: { max_payload: 1024 * 1024 },
    isClosed: () => false,
    publish(subject: string, data: Uint8Array) {
      if (state.refusing) throw new Error('connection closed')
      sent.push({ subject, bytes: data.byteLength, text: Buffer.from(data).toString('latin1') })
    },
    protocol,
  } as unknown as NatsConnection
  return { nc, sent, state, protocol }
}

/** Whether a sent batch carries `body` (bodies are the last bytes of their frames). */
const carries = (batch: { text: string } | undefined, body: string) => batch?.text.endsWith(body) === true

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

describe('nats mailer while the connection is down', () => {
  test('a listener mailer holds the batches sent while down and sends them, in order, once back', async () => {
    const { nc, sent, protocol } = connection()
    const mailer = new Mailer(nc, { holdWhileDown: true })
    const outbox = new Outbox(mailer, 'inbox.1', 'reply.1')
    outbox.frame(MuxFrame.Data, MuxFlag.End, 1, undefined, Buffer.from('one'))
    outbox.flush()
    protocol.connected = false
    outbox.frame(MuxFrame.Data, MuxFlag.End, 2, undefined, Buffer.from('two'))
    outbox.flush()
    outbox.frame(MuxFrame.Data, MuxFlag.End, 3, undefined, Buffer.from('three'))
    outbox.flush()
    assert.equal(sent.length, 1, 'nothing is handed to nats.js while it is down (it would drop it)')
    mailer.resume()
    assert.equal(sent.length, 1, 'still down: still held')
    protocol.connected = true
    outbox.frame(MuxFrame.Data, MuxFlag.End, 4, undefined, Buffer.from('four'))
    outbox.flush()
    assert.equal(sent.length, 4, 'a send once back sends what was held first')
    assert.ok(carries(sent[1], 'two') && carries(sent[2], 'three') && carries(sent[3], 'four'))
    protocol.connected = false
    outbox.frame(MuxFrame.Data, MuxFlag.End, 5, undefined, Buffer.from('five'))
    outbox.flush()
    protocol.connected = true
    mailer.resume()
    assert.equal(sent.length, 5, 'resume (on reconnect) sends what was held')
    assert.ok(carries(sent[4], 'five'))
  })

  test('a mailer without holdWhileDown hands every batch to nats.js at once', () => {
    const { nc, sent, protocol } = connection()
    const outbox = new Outbox(new Mailer(nc), 'node._mux', 'reply')
    protocol.connected = false
    outbox.frame(MuxFrame.Cancel, MuxFlag.End, 1, undefined, undefined)
    outbox.flush()
    assert.equal(sent.length, 1)
  })
})

describe('nats outbox on a real connection', { skip: testServer('nats').skip }, () => {
  test('nats.js still has the flush an early batch relies on', async () => {
    const { connect } = await import('@nats-io/transport-node')
    const nc = await connect({ servers: testServer('nats').address })
    try {
      const protocol = (nc as unknown as { protocol?: { flushPending?: unknown; connected?: unknown } })
        .protocol
      assert.equal(
        typeof protocol?.flushPending,
        'function',
        'upgrade of nats.js: early batches now wait for the turn to end',
      )
      assert.equal(
        protocol?.connected,
        true,
        'upgrade of nats.js: a listener can no longer hold its replies while the connection is down',
      )
    } finally {
      await nc.close()
    }
  })
})
