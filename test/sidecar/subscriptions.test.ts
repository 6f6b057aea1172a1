import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { MessageContext } from '../../src/broker/subscriber.js'
import type { Service } from '../../src/service/service.js'
import type { Sidecar } from '../../src/sidecar/sidecar.js'
import { type Blocks, FakeApp, memoryBlocks, startService, startSidecar } from '../support/sidecar.js'
import { until } from '../support/until.js'

interface Dead {
  payload: unknown
  reason: string | undefined
  topic: string | undefined
}

/**
 * Subscriptions the app declares on GET /micro/subscribe are delivered to its routes; its
 * answer settles each message: SUCCESS acks, RETRY redelivers up to the retry limit and then
 * dead-letters, DROP dead-letters at once (or drops with a log line). A route that never
 * answers holds only its own bounded slots.
 */
describe('sidecar subscriptions: SUCCESS, RETRY, DROP, retry limits and dead letters', () => {
  const app = new FakeApp()
  let blocks: Blocks
  let sidecar: Sidecar
  let publisher: Service
  const dead: Dead[] = []
  let mostAtStuck = 0
  const publish = (topic: string, payload: unknown, metadata?: Record<string, string>) =>
    publisher.client.publish(topic, payload, metadata ? { metadata } : {})
  const bodies = (path: string) => app.hitsOn(path).map((h) => JSON.parse(h.body.toString()))

  before(async () => {
    await app.listen()
    app.subscriptions = [
      { topic: 'orders.ok', route: '/ok' },
      { topic: 'orders.retry', route: '/retry', retryLimit: 2 },
      { topic: 'orders.flaky', route: '/flaky' },
      { topic: 'orders.drop', route: '/drop', deadLetter: 'orders.dropped' },
      { topic: 'orders.quiet', route: '/quiet', deadLetter: false, concurrency: 1 },
      { topic: 'orders.stuck', route: '/stuck', concurrency: 2, timeout: 200, retryLimit: 1 },
      { topic: 'orders.ce', route: '/ce', envelope: 'cloudevent' },
      {
        pubsubname: 'ignored',
        topic: 'orders.dapr',
        routes: { default: '/dapr' },
        deadLetterTopic: 'dapr.dead',
      },
    ]
    app.routes.set('/ok', () => ({ status: 200 }))
    app.routes.set('/retry', () => ({ body: { status: 'RETRY' } }))
    let flaky = 0
    app.routes.set('/flaky', () =>
      ++flaky === 1 ? { status: 500, body: 'not yet' } : { body: { status: 'success' } },
    )
    app.routes.set('/drop', () => ({ body: { status: 'DROP' } }))
    app.routes.set('/quiet', (hit) =>
      JSON.parse(hit.body.toString()).n === 1
        ? { body: { status: 'DROP' } }
        : { body: { status: 'SUCCESS' } },
    )
    app.routes.set('/stuck', () => {
      // What the sidecar holds at the app for this subscription as each request arrives.
      const subs = sidecar.describe().subscriptions as { topic: string; inFlight: number }[]
      mostAtStuck = Math.max(mostAtStuck, subs.find((s) => s.topic === 'orders.stuck')?.inFlight ?? 0)
      return 'hang'
    })
    app.routes.set('/ce', () => ({ body: { status: 'SUCCESS' } }))
    app.routes.set('/dapr', () => ({ body: { status: 'DROP' } }))
    blocks = memoryBlocks()
    ;({ sidecar } = await startSidecar(app, blocks))
    await sidecar.ready
    publisher = await startService(blocks, 'ts-publisher')
    for (const topic of ['orders.retry.dead', 'orders.dropped', 'orders.stuck.dead', 'dapr.dead']) {
      await publisher.subscribe(topic, (payload: unknown, ctx: MessageContext) => {
        dead.push({
          payload,
          reason: ctx.metadata['micro-dead-letter-reason'],
          topic: ctx.metadata['micro-dead-letter-topic'],
        })
      })
    }
  })
  after(async () => {
    await publisher.stop()
    await sidecar.stop()
    await app.close()
  })

  test('SUCCESS (a 2xx, with or without a status) acks: delivered once, with its headers', async () => {
    await publish(
      'orders.ok',
      { id: 1 },
      { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    )
    await until(() => app.hitsOn('/ok').length === 1, 'the delivery')
    const hit = app.hitsOn('/ok')[0]
    assert.deepEqual(JSON.parse(hit?.body.toString() ?? ''), { id: 1 })
    assert.equal(hit?.headers['micro-topic'], 'orders.ok')
    assert.equal(hit?.headers['micro-attempt'], '1')
    assert.equal(hit?.headers['micro-caller'], 'ts-publisher')
    assert.ok(hit?.headers['micro-id'])
    assert.equal(hit?.headers.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
    await until(
      () =>
        sidecar.describe().deliveries !== undefined &&
        (sidecar.describe().deliveries as { SUCCESS: number }).SUCCESS >= 1,
      'the count',
    )
  })

  test('RETRY redelivers up to the retry limit, then the message goes to the dead-letter topic', async () => {
    await publish('orders.retry', { id: 2 })
    await until(() => dead.some((d) => (d.payload as { id?: number }).id === 2), 'the dead letter')
    assert.deepEqual(
      app.hitsOn('/retry').map((h) => h.headers['micro-attempt']),
      ['1', '2', '3'],
    )
    const letter = dead.find((d) => (d.payload as { id?: number }).id === 2)
    assert.equal(letter?.topic, 'orders.retry')
    assert.match(String(letter?.reason), /delivery 3 of 3/)
  })

  test('a non-2xx answer counts as RETRY; the next delivery succeeds and nothing is dead-lettered', async () => {
    await publish('orders.flaky', { id: 3 })
    await until(() => app.hitsOn('/flaky').length === 2, 'the redelivery')
    assert.deepEqual(bodies('/flaky'), [{ id: 3 }, { id: 3 }])
    assert.ok(!dead.some((d) => (d.payload as { id?: number }).id === 3))
  })

  test('DROP sends the message to the dead-letter topic at once', async () => {
    await publish('orders.drop', { id: 4 })
    await until(() => dead.some((d) => (d.payload as { id?: number }).id === 4), 'the dead letter')
    assert.equal(app.hitsOn('/drop').length, 1)
    assert.match(String(dead.find((d) => (d.payload as { id?: number }).id === 4)?.reason), /without requeue/)
  })

  test("Dapr's declaration shape works: routes.default and deadLetterTopic", async () => {
    await publish('orders.dapr', { id: 40 })
    await until(
      () => dead.some((d) => (d.payload as { id?: number }).id === 40),
      'the dead letter on dapr.dead',
    )
  })

  test('DROP without a dead-letter topic drops the message: never delivered again', async () => {
    await publish('orders.quiet', { n: 1 })
    await publish('orders.quiet', { n: 2 })
    // One at a time (concurrency 1): once n=2 is in, n=1 was settled for good.
    await until(() => bodies('/quiet').some((b) => b.n === 2), 'the second message')
    assert.deepEqual(bodies('/quiet'), [{ n: 1 }, { n: 2 }])
  })

  test('a route that never answers: bounded in flight, timed out as RETRY, dead-lettered; others still delivered', async () => {
    for (let i = 0; i < 6; i++) await publish('orders.stuck', { stuck: i })
    for (let i = 0; i < 5; i++) await publish('orders.ok', { id: 100 + i })
    await until(
      () => app.hitsOn('/ok').filter((h) => JSON.parse(h.body.toString()).id >= 100).length === 5,
      'the other topic',
    )
    await until(
      () => dead.filter((d) => (d.payload as { stuck?: number }).stuck !== undefined).length === 6,
      'every stuck message dead-lettered',
    )
    assert.equal(mostAtStuck, 2)
    // Each was tried twice (retryLimit 1), and every attempt was abandoned by the sidecar.
    assert.equal(app.hitsOn('/stuck').length, 12)
    await until(() => app.aborted >= 12, 'the app to see each attempt abandoned')
  })

  test('a CloudEvents envelope, when the subscription asks for one', async () => {
    await publish('orders.ce', { id: 5 })
    await until(() => app.hitsOn('/ce').length === 1, 'the delivery')
    const hit = app.hitsOn('/ce')[0]
    assert.equal(hit?.headers['content-type'], 'application/cloudevents+json')
    const event = JSON.parse(hit?.body.toString() ?? '')
    assert.equal(event.specversion, '1.0')
    assert.equal(event.topic, 'orders.ce')
    assert.equal(event.source, 'ts-publisher')
    assert.equal(event.datacontenttype, 'application/json')
    assert.deepEqual(event.data, { id: 5 })
    assert.equal(event.id, hit?.headers['micro-id'])
  })
})
