import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { testServer } from '../testing/servers.js'
import type { Broker, Delivery } from './broker.js'
import { waitUntil } from './conformance-kit.js'
import { MemoryBroker, MemoryHub } from './memory.js'
import { NatsBroker } from './nats.js'
import { publish } from './publish.js'
import { DEAD_REASON_HEADER, DEAD_TOPIC_HEADER, type MessageContext, subscribe } from './subscriber.js'

const silent = createLogger({ level: 'silent' })
const nats = testServer('nats')
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** A logger that keeps its lines, to check what was logged. */
function recording() {
  const lines: Array<{ level: string; msg: string } & Record<string, unknown>> = []
  const logger = createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) })
  return { logger, lines }
}

function layerTests(name: string, make: () => Broker): void {
  describe(`publish and subscribe (service layer) on ${name}`, () => {
    const brokers: Broker[] = []
    const broker = () => {
      const b = make()
      brokers.push(b)
      return b
    }
    const topic = (label: string) => `layer.${randomUUID().slice(0, 8)}.${label}`
    after(async () => {
      for (const b of brokers) await b.close()
    })

    /** Raw deliveries on a topic (e.g. the dead-letter one). */
    const raw = async (b: Broker, t: string) => {
      const got: Delivery[] = []
      await b.subscribe(t, (d) => {
        got.push(d)
      })
      return got
    }

    test('a JSON payload arrives decoded with topic, id, caller, metadata and trace context', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('json')
      const got: Array<{ payload: unknown; ctx: MessageContext }> = []
      await subscribe(sub, t, (payload, ctx) => void got.push({ payload, ctx }), {
        logger: silent,
        service: 'orders',
      })
      const handlerCtx = {
        metadata: {
          traceparent,
          'x-tenant': 'acme',
          'content-type': 'application/msgpack',
          'micro-id': 'old',
        },
      }
      const id = await publish(
        pub,
        t,
        { order: 42, items: ['a', 'b'] },
        {
          caller: 'shop',
          metadata: { 'X-Request-Source': 'test' },
          context: handlerCtx,
        },
      )
      await waitUntil(() => got.length === 1)
      const [{ payload, ctx }] = got as [{ payload: unknown; ctx: MessageContext }]
      assert.deepEqual(payload, { order: 42, items: ['a', 'b'] })
      assert.equal(ctx.topic, t)
      assert.equal(ctx.id, id)
      assert.equal(ctx.service, 'orders')
      assert.equal(ctx.endpoint, t)
      assert.equal(ctx.metadata['micro-caller'], 'shop')
      assert.equal(
        ctx.metadata['content-type'],
        'application/json',
        'the context content type is not carried',
      )
      assert.equal(ctx.metadata.traceparent, traceparent)
      assert.equal(ctx.metadata['x-tenant'], 'acme')
      assert.equal(ctx.metadata['x-request-source'], 'test')
      assert.equal(ctx.metadata['micro-topic'], t)
      assert.notEqual(ctx.id, 'old', 'a new message gets a new id')
      assert.equal(ctx.signal.aborted, false)
    })

    test('msgpack and raw bytes round-trip by content type', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('codecs')
      const got: unknown[] = []
      await subscribe(sub, t, (payload) => void got.push(payload), { logger: silent })
      await publish(pub, t, { n: 1, big: 2 ** 40 }, { contentType: 'application/msgpack' })
      await publish(pub, t, Uint8Array.from([0, 255, 7]))
      await waitUntil(() => got.length === 2)
      assert.deepEqual(got[0], { n: 1, big: 2 ** 40 })
      assert.deepEqual([...(got[1] as Uint8Array)], [0, 255, 7])
    })

    test('a message that cannot be decoded goes to <topic>.dead with the reason; the handler never sees it', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('malformed')
      const { logger, lines } = recording()
      const dead = await raw(sub, `${t}.dead`)
      const got: unknown[] = []
      await subscribe(sub, t, (payload) => void got.push(payload), { logger })
      const body = Buffer.from('{"order": 4')
      await pub.publish(t, {
        headers: { 'content-type': 'application/json', 'micro-id': 'bad-1', traceparent },
        body,
      })
      await pub.publish(t, { headers: { 'content-type': 'application/x-unknown' }, body: Buffer.from('??') })
      await publish(pub, t, { fine: true })
      await waitUntil(() => dead.length === 2 && got.length === 1)
      assert.deepEqual(got, [{ fine: true }])
      const [first, second] = dead as [Delivery, Delivery]
      assert.match(first.headers[DEAD_REASON_HEADER] ?? '', /cannot decode as application\/json/)
      assert.equal(first.headers[DEAD_TOPIC_HEADER], t)
      assert.equal(first.id, 'bad-1', 'same message id')
      assert.equal(first.headers.traceparent, traceparent)
      assert.deepEqual(Buffer.from(first.body), body)
      assert.match(
        second.headers[DEAD_REASON_HEADER] ?? '',
        /unsupported content-type application\/x-unknown/,
      )
      assert.ok(lines.some((l) => l.level === 'warn' && /dead-letter/.test(l.msg)))
    })

    test('a schema rejects invalid messages to the dead-letter topic and hands over parsed values', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('schema')
      const deadTopic = `${t}.invalid`
      const dead = await raw(sub, deadTopic)
      const schema = z.object({ order: z.number().int(), when: z.coerce.date() })
      const got: Array<{ order: number; when: Date }> = []
      await subscribe(sub, t, (payload) => void got.push(payload), {
        schema,
        deadLetter: deadTopic,
        logger: silent,
      })
      await publish(pub, t, { order: 'seven', when: '2024-01-01' })
      await publish(pub, t, { order: 7, when: '2024-01-01T00:00:00Z' })
      await waitUntil(() => dead.length === 1 && got.length === 1)
      assert.equal(got[0]?.order, 7)
      assert.ok(got[0]?.when instanceof Date)
      assert.match(dead[0]?.headers[DEAD_REASON_HEADER] ?? '', /invalid message on .*: order: /)
    })

    test('deadLetter: false drops what cannot be used (logged) and goes on', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('drop')
      const { logger, lines } = recording()
      const dead = await raw(sub, `${t}.dead`)
      const got: unknown[] = []
      await subscribe(sub, t, (payload) => void got.push(payload), { deadLetter: false, logger })
      await pub.publish(t, { headers: { 'content-type': 'application/json' }, body: Buffer.from('nope') })
      await publish(pub, t, 'next')
      await waitUntil(() => got.length === 1)
      await sleep(100)
      assert.deepEqual(got, ['next'])
      assert.equal(dead.length, 0)
      assert.ok(lines.some((l) => /dropped a message/.test(l.msg)))
    })

    test('a handler that throws is logged and the subscription goes on', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('throws')
      const { logger, lines } = recording()
      const got: unknown[] = []
      await subscribe(
        sub,
        t,
        (payload) => {
          got.push(payload)
          if (payload === 'boom') throw new Error('handler failed on purpose')
        },
        { logger },
      )
      await publish(pub, t, 'boom')
      await publish(pub, t, 'after')
      await waitUntil(() => got.length === 2)
      assert.deepEqual(got, ['boom', 'after'])
      const logged = lines.find((l) => l.level === 'error')
      assert.match(String(logged?.msg), /subscriber failed/)
      assert.match(JSON.stringify(logged), /handler failed on purpose/)
    })

    test('manual ack: a throwing handler nacks the message', async () => {
      const [pub, sub] = [broker(), broker()]
      const t = topic('nack')
      const seen: Array<{ payload: unknown; redelivered: boolean }> = []
      await subscribe(
        sub,
        t,
        async (payload, ctx) => {
          seen.push({ payload, redelivered: ctx.redelivered })
          if (!ctx.redelivered && payload === 'retry me') throw new Error('first attempt fails')
          await ctx.ack()
        },
        { autoAck: false, logger: silent },
      )
      await publish(pub, t, 'retry me')
      await publish(pub, t, 'plain')
      await waitUntil(() => seen.length >= 3)
      await sleep(100)
      assert.equal(seen.length, 3)
      assert.deepEqual(
        seen.filter((s) => s.payload === 'retry me').map((s) => s.redelivered),
        [false, true],
      )
    })

    test('ctx.signal aborts on unsubscribe; a ctx passed to publish carries trace context on', async () => {
      const [pub, sub] = [broker(), broker()]
      const [first, second] = [topic('chain-a'), topic('chain-b')]
      let seenCtx: MessageContext | undefined
      const forwarded: MessageContext[] = []
      const a = await subscribe(
        sub,
        first,
        async (payload, ctx) => {
          seenCtx = ctx
          await publish(pub, second, { from: payload }, { context: ctx, caller: 'relay' })
        },
        { logger: silent },
      )
      await subscribe(sub, second, (_p, ctx) => void forwarded.push(ctx), { logger: silent })
      const id = await publish(pub, first, 'hop', { metadata: { traceparent } })
      await waitUntil(() => forwarded.length === 1)
      const [ctx] = forwarded as [MessageContext]
      assert.equal(ctx.metadata.traceparent, traceparent)
      assert.equal(ctx.metadata['micro-caller'], 'relay')
      assert.notEqual(ctx.id, id)
      assert.equal(ctx.metadata['micro-topic'], second)
      await a.unsubscribe()
      assert.equal(seenCtx?.signal.aborted, true)
    })

    test('publish: an unknown content type is a 415, an unencodable payload a 400', async () => {
      const pub = broker()
      await assert.rejects(
        publish(pub, topic('bad'), {}, { contentType: 'application/x-nope' }),
        (e: unknown) => e instanceof MicroError && e.code === 415 && /application\/json/.test(e.detail),
      )
      await assert.rejects(
        publish(pub, topic('bad'), { n: 1n }),
        (e: unknown) => e instanceof MicroError && e.code === 400 && /cannot encode/.test(e.detail),
      )
    })
  })
}

const hub = new MemoryHub()
layerTests('memory', () => new MemoryBroker({ hub, logger: silent }))

describe('service layer on nats', { skip: nats.skip }, () => {
  layerTests('nats', () => new NatsBroker({ address: nats.address, logger: silent }))
})
