import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Order, OrderEvent } from '../examples/shop/orders/service.js'
import { killDevLoops, startDevLoop, type TestNetwork, testNetwork } from './support/devloop.js'
import type { Child } from './support/process.js'
import { waitUntil } from './support/runtime.js'

// examples/shop as a user runs it: `micro run examples/shop`, every call through the dev
// loop's gateway (bound to port 0) and the dashboard's API next to it. The services find
// each other over mDNS on a multicast port of this test's own; store, events and locks are
// file engines in a temporary folder, so every run starts with the seeded stock.

const work = mkdtempSync(join(tmpdir(), 'micro-shop-'))
const GOOD_CARD = '4242 4242 4242 4242'

interface Product {
  id: string
  stock: number
}
interface Notification {
  orderId: string
  type: string
  to: string
}
interface EventView {
  sequence: number
  metadata: Record<string, string>
  payload: OrderEvent
}

describe('examples/shop under micro run', () => {
  let net: TestNetwork
  let loop: Child
  let base = ''

  before(async () => {
    net = testNetwork()
    loop = startDevLoop(['examples/shop', '--address', '127.0.0.1:0', '--no-watch'], {
      ...net.env,
      MICRO_STORE: 'file',
      MICRO_STORE_ADDRESS: join(work, 'store'),
      MICRO_EVENTS: 'file',
      MICRO_EVENTS_ADDRESS: join(work, 'events'),
      MICRO_SYNC: 'file',
      MICRO_SYNC_ADDRESS: join(work, 'sync'),
      RETRY_DELAY: '20ms',
    })
    await loop.waitFor(/4 of 4 ready/, 120_000)
    base = (loop.stdout().match(/Dashboard\s+(http:\/\/\S+)\//) as RegExpMatchArray)[1] as string
  })

  test('the banner lists the four services in one column, however long a name', () => {
    const rows = loop.stdout().match(/^ {2}(orders|inventory|payments|notifications) +1\.0\.0 /gm) ?? []
    assert.equal(rows.length, 4, loop.stdout())
    assert.equal(new Set(rows.map((r) => r.length)).size, 1, rows.join('\n'))
  })
  after(async () => {
    await killDevLoops()
    await net?.close()
    rmSync(work, { recursive: true, force: true })
  })

  /** POST a JSON body to a path of the dev loop's address. */
  async function post<T>(path: string, body: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as T }
  }
  const place = async (items: { product: string; quantity: number }[], card = GOOD_CARD) => {
    const reply = await post<Order>('/api/orders/place', { items, email: 'ada@example.com', card })
    assert.equal(reply.status, 200, JSON.stringify(reply.body))
    return reply.body
  }
  const stock = async (): Promise<Record<string, number>> => {
    const { body } = await post<{ products: Product[] }>('/api/inventory/list', {})
    return Object.fromEntries(body.products.map((p) => [p.id, p.stock]))
  }
  const notified = (orderId: string, type: string) =>
    waitUntil(
      async () => {
        const { body } = await post<{ notifications: Notification[] }>('/api/notifications/list', { orderId })
        return body.notifications.find((n) => n.type === type)
      },
      `the ${type} notification of ${orderId}`,
      20_000,
    )
  const events = async (topic: string): Promise<EventView[]> => {
    const res = await fetch(`${base}/dashboard/api/events/topics/${topic}/events?limit=1000`)
    assert.equal(res.status, 200)
    return ((await res.json()) as { events: EventView[] }).events
  }

  test('a good order is confirmed: its stock is taken and the customer is notified', async () => {
    assert.deepEqual(await stock(), { espresso: 3, mug: 10, tee: 5 }, 'the seeded stock')
    const order = await place([
      { product: 'mug', quantity: 2 },
      { product: 'tee', quantity: 1 },
    ])
    assert.equal(order.status, 'confirmed')
    assert.equal(order.total, 2 * 1200 + 2500)
    assert.ok(order.chargeId)
    assert.deepEqual(await stock(), { espresso: 3, mug: 8, tee: 4 })

    const { body: stored } = await post<Order>('/api/orders/get', { id: order.id })
    assert.equal(stored.status, 'confirmed')
    const steps = (await events('orders'))
      .filter((e) => e.metadata.order === order.id)
      .map((e) => e.metadata.type)
    assert.deepEqual(steps, ['order.placed', 'order.reserved', 'order.charged', 'order.confirmed'])
    const sent = await notified(order.id, 'order.confirmed')
    assert.equal(sent.to, 'ada@example.com')
  })

  test('a declined card is compensated: the stock comes back and the order fails', async () => {
    const before = await stock()
    const declined = await place([{ product: 'mug', quantity: 3 }], '4000 0000 0000 0002')
    assert.equal(declined.status, 'failed')
    assert.equal(declined.reason, 'card declined')
    assert.deepEqual(await stock(), before, 'the reservation was released')
    const steps = (await events('orders'))
      .filter((e) => e.metadata.order === declined.id)
      .map((e) => e.metadata.type)
    assert.deepEqual(steps, ['order.placed', 'order.reserved', 'order.released', 'order.failed'])
    assert.equal((await post<Order>('/api/orders/get', { id: declined.id })).body.status, 'failed')
    await notified(declined.id, 'order.failed')

    // Over the charge limit (3 x 450.00 > 1000.00): declined the same way.
    const tooMuch = await place([{ product: 'espresso', quantity: 3 }])
    assert.equal(tooMuch.status, 'failed')
    assert.match(tooMuch.reason ?? '', /over the limit/)
    // More than there is: nothing reserved, nothing charged.
    const short = await place([{ product: 'tee', quantity: 50 }])
    assert.equal(short.status, 'failed')
    assert.equal(short.reason, `only ${before.tee} tee left`)
    assert.deepEqual(await stock(), before)
  })

  test('bad input is a 400 through the gateway and places nothing', async () => {
    const { body: listed } = await post<{ orders: Order[] }>('/api/orders/list', { limit: 100 })
    const bad = await post<{ code: number; detail: string }>('/api/orders/place', {
      items: [],
      card: GOOD_CARD,
    })
    assert.equal(bad.status, 400)
    assert.match(bad.body.detail, /items/)
    const unknown = await post<{ code: number }>('/api/orders/get', { id: 'no-such-order' })
    assert.equal(unknown.status, 404)
    const { body: after } = await post<{ orders: Order[] }>('/api/orders/list', { limit: 100 })
    assert.equal(after.orders.length, listed.orders.length)
  })

  test('a notification the mailer refuses goes to the dead letters after its retries; a replay sends it', async () => {
    assert.equal((await post('/api/notifications/set-mailer-down', { down: true })).status, 200)
    const order = await place([{ product: 'mug', quantity: 1 }])
    assert.equal(order.status, 'confirmed')
    const dead = await waitUntil(
      async () => (await events('orders.dead')).find((e) => e.metadata.order === order.id),
      'the dead letter',
      20_000,
    )
    assert.equal(dead.metadata['dead-letter-group'], 'notifications')
    assert.equal(dead.metadata['dead-letter-attempts'], '4', 'the first delivery and 3 retries')
    assert.match(dead.metadata['dead-letter-reason'] ?? '', /the mail provider is down/)
    assert.equal(dead.payload.type, 'order.confirmed')
    const { body: none } = await post<{ notifications: Notification[] }>('/api/notifications/list', {
      orderId: order.id,
    })
    assert.deepEqual(none.notifications, [])

    assert.equal((await post('/api/notifications/set-mailer-down', { down: false })).status, 200)
    const replay = await post<{ topic: string; metadata: Record<string, string> }>(
      `/dashboard/api/events/dead/orders.dead/${dead.sequence}/replay`,
      {},
    )
    assert.equal(replay.status, 200)
    assert.equal(replay.body.topic, 'orders')
    assert.equal(replay.body.metadata['replayed-from'], `orders.dead#${dead.sequence}`)
    await notified(order.id, 'order.confirmed')
  })

  test('Ctrl-C stops every service and the dev loop exits 0', async () => {
    loop.process.kill('SIGINT')
    assert.equal(await loop.exited, 0)
    const out = loop.stdout()
    for (const name of ['orders', 'inventory', 'payments', 'notifications'])
      assert.match(out, new RegExp(`^${name}\\s+\\| info\\s+${name} stopped`, 'm'))
  })
})
