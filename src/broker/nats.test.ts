import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { NatsConnection } from '@nats-io/transport-node'
import { connect, headers as natsHeaders } from '@nats-io/transport-node'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import { BATCH_VERSION } from './batch.js'
import { brokerConformance } from './conformance.js'
import { bytes, collect, text, waitUntil } from './conformance-kit.js'
import { brokerFromEnv } from './from-env.js'
import { NatsBroker } from './nats.js'

const nats = testServer('nats')
const logger = createLogger({ level: 'silent' })

describe('nats broker', { skip: nats.skip }, () => {
  brokerConformance('nats', () => new NatsBroker({ address: nats.address, logger }))
})

describe('nats broker, one NATS message per publish (batch: false)', { skip: nats.skip }, () => {
  brokerConformance('nats unbatched', () => new NatsBroker({ address: nats.address, logger, batch: false }))
})

describe('nats broker and plain NATS clients', { skip: nats.skip }, () => {
  let nc: NatsConnection
  const subject = () => `interop.${randomUUID().slice(0, 8)}`
  before(async () => {
    nc = await connect({ servers: nats.address })
  })
  after(async () => {
    await nc.close()
  })

  test('MICRO_BROKER_BATCH=false: a plain subscriber gets each publish as its own message, headers as NATS headers', async () => {
    const broker = brokerFromEnv(
      { logger },
      { MICRO_BROKER: 'nats', MICRO_BROKER_ADDRESS: nats.address, MICRO_BROKER_BATCH: 'false' },
    )
    try {
      const topic = subject()
      const seen: { body: string; source: string | undefined; batch: string | undefined }[] = []
      nc.subscribe(topic, {
        callback: (_error, msg) => {
          seen.push({
            body: msg.string(),
            source: msg.headers?.get('x-source'),
            batch: msg.headers?.get('micro-batch'),
          })
        },
      })
      await nc.flush()
      await Promise.all(
        ['a', 'b', 'c'].map((b) =>
          broker.publish(topic, { body: bytes(b), headers: { 'x-source': 'shop' } }),
        ),
      )
      await waitUntil(() => seen.length >= 3)
      assert.deepEqual(
        seen.map((m) => m.body),
        ['a', 'b', 'c'],
      )
      assert.ok(seen.every((m) => m.source === 'shop' && m.batch === ''))
    } finally {
      await broker.close()
    }
  })

  test('batched by default: messages of one turn share a NATS message; a micro subscriber reads each, and a plain publisher too', async () => {
    const broker = new NatsBroker({ address: nats.address, logger })
    try {
      const topic = subject()
      const raw: string[] = []
      nc.subscribe(topic, {
        callback: (_error, msg) => {
          raw.push(msg.headers?.get('micro-batch') ?? '')
        },
      })
      await nc.flush()
      const got = await collect(broker, topic)
      await Promise.all(['a', 'b', 'c'].map((b) => broker.publish(topic, { body: bytes(b) })))
      // The plain publish goes on another connection: NATS orders messages per connection
      // only, so it is sent once the broker's batch has arrived.
      await got.waitFor(3)
      await waitUntil(() => raw.length >= 1)
      const plain = natsHeaders()
      plain.set('x-source', 'plain')
      nc.publish(topic, 'from nats', { headers: plain })
      await got.waitFor(4)
      assert.deepEqual(got.bodies(), ['a', 'b', 'c', 'from nats'])
      assert.equal(got.received[3]?.headers['x-source'], 'plain')
      // Three publishes in one turn were one NATS message; the plain one had no marker.
      await waitUntil(() => raw.length >= 2)
      assert.deepEqual(raw, [BATCH_VERSION, ''])
      assert.equal(text(got.received[0]?.body ?? bytes('')), 'a')
    } finally {
      await broker.close()
    }
  })

  test('MICRO_BROKER_BATCH must be true or false', () => {
    assert.throws(
      () => brokerFromEnv({}, { MICRO_BROKER: 'nats', MICRO_BROKER_BATCH: 'maybe' }),
      /MICRO_BROKER_BATCH/,
    )
  })
})
