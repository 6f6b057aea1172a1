import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'
import type { MicroError } from '../../src/errors/errors.js'
import { testServer } from '../../src/testing/servers.js'
import { DEFAULT_LIMITS } from '../../src/transport/limits.js'
import { NatsTransport } from '../../src/transport/nats-transport.js'
import type { Dispatcher, InboundCall } from '../../src/transport/transport.js'
import { until } from '../support/until.js'

const nats = testServer('nats')
const LIMIT = 20

/** The NATS listener caps the calls one caller (session) has in flight, as the TCP port does. */
describe('abuse: many pending calls from one caller over NATS', { skip: nats.skip }, () => {
  test(`past ${LIMIT} calls in flight from one caller, the rest are 503 at once`, async () => {
    const prefix = `abuse-${randomUUID().slice(0, 8)}`
    const server = new NatsTransport({ address: nats.address, prefix })
    const client = new NatsTransport({ address: nats.address, prefix })
    const held: InboundCall[] = []
    const dispatcher: Dispatcher = {
      unary: (call) => {
        held.push(call)
      },
      stream: (_call, channel) => channel.end(),
    }
    try {
      const listener = await server.listen('', dispatcher, {
        limits: { ...DEFAULT_LIMITS, maxConnectionCalls: LIMIT },
      })
      const call = () =>
        client.call(listener.address, {
          endpoint: 'Test.Hold',
          headers: {},
          body: Buffer.from('{}'),
          timeout: 10_000,
          signal: undefined,
        })
      let settled = 0
      const outcomes = Array.from({ length: LIMIT + 30 }, () =>
        call()
          .then(
            () => 200,
            (e: MicroError) => e,
          )
          .finally(() => settled++),
      )
      await until(() => held.length === LIMIT && settled === 30, 'the cap to fill and the rest refused')
      for (const c of held) c.respond(Buffer.from('{}'))
      const results = await Promise.all(outcomes)
      const refused = results.filter((r): r is MicroError => r !== 200)
      assert.equal(results.length - refused.length, LIMIT)
      assert.equal(refused.length, 30)
      for (const e of refused) {
        assert.equal(e.code, 503)
        assert.match(e.detail, /too many calls in flight from this caller \(limit 20\)/)
      }
      assert.equal(held.length, LIMIT)
      await listener.close()
    } finally {
      await client.close()
      await server.close()
    }
  })
})
