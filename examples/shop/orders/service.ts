/**
 * orders: places an order and runs its saga: reserve the stock (inventory), charge the
 * card (payments), confirm. When a step fails, the steps done are undone, last first (a
 * declined card releases the stock), and the order is marked failed with the reason. Each
 * order is a store record; each step is an event on the `orders` topic.
 */
import { randomUUID } from 'node:crypto'
import {
  clientSpec,
  defineService,
  errors,
  type Logger,
  MicroError,
  type ServiceClient,
  type Store,
  StoreNotFoundError,
} from 'micro-ts'
import type { Events } from 'micro-ts/events'
import type { Inventory, Line } from '../inventory/service.js'
import type { Payments } from '../payments/service.js'
import { runSaga } from './saga.js'

export type OrderStatus = 'placed' | 'reserved' | 'charged' | 'confirmed' | 'failed'

/** An order as the store keeps it; amounts in cents. The card is never kept. */
export interface Order {
  id: string
  status: OrderStatus
  email: string
  lines: (Line & { price?: number })[]
  total: number
  chargeId?: string
  /** Why it failed, as the failing service said it. */
  reason?: string
  createdAt: string
  updatedAt: string
}

/** What goes on the `orders` topic at every step: the event's type, and the order as it is then. */
export interface OrderEvent {
  type: `order.${'placed' | 'reserved' | 'charged' | 'confirmed' | 'released' | 'refunded' | 'failed'}`
  order: Order
}

/** The topic of order events. */
export const TOPIC = 'orders'
const ID = 'orders'
const ORDER = 'order:'

export class Orders {
  readonly #inventory: ServiceClient<Inventory>
  readonly #payments: ServiceClient<Payments>
  readonly #store: Store
  readonly #events: Events
  readonly #logger: Logger

  constructor(deps: {
    inventory: ServiceClient<Inventory>
    payments: ServiceClient<Payments>
    store: Store
    events: Events
    logger: Logger
  }) {
    this.#inventory = deps.inventory
    this.#payments = deps.payments
    this.#store = deps.store
    this.#events = deps.events
    this.#logger = deps.logger
  }

  /**
   * Orders.Place: place an order and run its saga. Answers the order, `confirmed` or
   * `failed` (with the reason); bad input is a 400 and places nothing.
   */
  async Place(req: { items: Line[]; email: string; card: string }): Promise<Order> {
    const { items, email, card } = checkPlace(req)
    const now = new Date().toISOString()
    const order: Order = {
      id: randomUUID(),
      status: 'placed',
      email,
      lines: items,
      total: 0,
      createdAt: now,
      updatedAt: now,
    }
    await this.#record(order, 'order.placed')
    const orderId = order.id
    try {
      await runSaga(
        [
          {
            name: 'reserve',
            run: async () => {
              const reservation = await this.#inventory.Reserve({ orderId, lines: items })
              order.status = 'reserved'
              order.lines = reservation.lines
              order.total = reservation.total
              await this.#record(order, 'order.reserved')
            },
            undo: async () => {
              if ((await this.#inventory.Release({ orderId })).released)
                await this.#publish(order, 'order.released')
            },
          },
          {
            name: 'charge',
            run: async () => {
              const charge = await this.#payments.Charge({ orderId, amount: order.total, card })
              order.status = 'charged'
              order.chargeId = charge.chargeId
              await this.#record(order, 'order.charged')
            },
            undo: async () => {
              if ((await this.#payments.Refund({ orderId })).refunded)
                await this.#publish(order, 'order.refunded')
            },
          },
          {
            name: 'confirm',
            run: async () => {
              order.status = 'confirmed'
              await this.#record(order, 'order.confirmed')
            },
          },
        ],
        (step, error) =>
          this.#logger.error('could not undo a step', { order: orderId, step, error: reasonOf(error) }),
      )
    } catch (error) {
      order.status = 'failed'
      order.reason = reasonOf(error)
      await this.#record(order, 'order.failed')
    }
    return order
  }

  /** Orders.Get: one order by id; 404 when there is none. */
  async Get(req: { id: string }): Promise<Order> {
    if (typeof req?.id !== 'string' || req.id === '') throw errors.badRequest(ID, 'id is required')
    try {
      return (await this.#store.read<Order>(ORDER + req.id)).value
    } catch (error) {
      if (error instanceof StoreNotFoundError) throw errors.notFound(ID, 'no order %s', req.id)
      throw error
    }
  }

  /** Orders.List: the last orders, newest first (`limit`, default 20, at most 100). */
  async List(req: { limit?: number } = {}) {
    const limit = Math.min(Math.max(Math.trunc(Number(req?.limit ?? 20)) || 20, 1), 100)
    const records = await this.#store.read<Order>({ prefix: ORDER })
    const orders = records.map((r) => r.value).sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    return { orders: orders.slice(0, limit) }
  }

  /** Keep the order as it is now, then tell everyone. */
  async #record(order: Order, type: OrderEvent['type']): Promise<void> {
    order.updatedAt = new Date().toISOString()
    await this.#store.write(ORDER + order.id, order)
    await this.#publish(order, type)
  }

  async #publish(order: Order, type: OrderEvent['type']): Promise<void> {
    const event: OrderEvent = { type, order }
    await this.#events.publish(TOPIC, event, { metadata: { type, order: order.id } })
    this.#logger.info(type, { order: order.id, status: order.status, total: order.total })
  }
}

/** The reason a step failed, for the order: a caller's error says why; anything else does not leak. */
function reasonOf(error: unknown): string {
  const e = MicroError.from(error)
  return e.code < 500 ? e.detail : `${e.id || 'a service'} failed (${e.code}): try again later`
}

function checkPlace(req: { items?: unknown; email?: unknown; card?: unknown }) {
  const items = req?.items
  if (!Array.isArray(items) || items.length === 0 || items.length > 20)
    throw errors.badRequest(ID, 'items must list 1 to 20 { product, quantity }')
  const lines = items.map((item: Partial<Line>) => {
    if (
      typeof item?.product !== 'string' ||
      !Number.isInteger(item.quantity) ||
      (item.quantity as number) < 1
    )
      throw errors.badRequest(ID, 'each item needs a product and a quantity of at least 1')
    return { product: item.product, quantity: item.quantity as number }
  })
  if (typeof req.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(req.email) || req.email.length > 254)
    throw errors.badRequest(ID, 'email must be an email address')
  if (typeof req.card !== 'string') throw errors.badRequest(ID, 'card is required')
  return { items: lines, email: req.email, card: req.card }
}

const service = defineService({
  clients: { inventory: clientSpec<Inventory>(), payments: clientSpec<Payments>() },
  rpc: ({ clients, store, events, logger }) => new Orders({ ...clients, store, events, logger }),
})

export default service
service.runIfMain(import.meta)
