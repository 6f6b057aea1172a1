/**
 * payments: a simulated card processor. One charge per order, refundable; both are
 * idempotent per order, so a retried call never charges or refunds twice. Declined with a
 * 402: the test card 4000 0000 0000 0002, and any amount over CHARGE_LIMIT. Only the last
 * four digits of a card are kept, and never logged.
 */
import { randomUUID } from 'node:crypto'
import { defineService, errors, type Store, StoreNotFoundError } from 'micro-ts'

/** A charge as the store keeps it; amounts in cents. */
export interface Charge {
  orderId: string
  chargeId: string
  amount: number
  last4: string
  status: 'charged' | 'refunded'
  at: string
}

const ID = 'payments'
const CHARGE = 'charge:'
/** The card every test uses to see a decline. */
export const DECLINED_CARD = '4000000000000002'

export class Payments {
  readonly #store: Store
  readonly #limit: number

  constructor(store: Store, limit: number) {
    this.#store = store
    this.#limit = limit
  }

  /** Payments.Charge: charge `amount` cents to `card` for an order; 402 when declined. */
  async Charge(req: { orderId: string; amount: number; card: string }): Promise<Charge> {
    const orderId = checkOrderId(req?.orderId)
    if (!Number.isInteger(req.amount) || req.amount < 1)
      throw errors.badRequest(ID, 'amount must be a whole number of cents')
    const card = typeof req.card === 'string' ? req.card.replace(/[\s-]/g, '') : ''
    if (!/^\d{12,19}$/.test(card)) throw errors.badRequest(ID, 'card must be 12 to 19 digits')
    const done = await this.#charge(orderId)
    if (done) return done
    if (card === DECLINED_CARD) throw errors.newError(ID, 'card declined', 402)
    if (req.amount > this.#limit)
      throw errors.newError(ID, `amount ${req.amount} is over the limit of ${this.#limit}`, 402)
    const charge: Charge = {
      orderId,
      chargeId: randomUUID(),
      amount: req.amount,
      last4: card.slice(-4),
      status: 'charged',
      at: new Date().toISOString(),
    }
    await this.#store.write(CHARGE + orderId, charge)
    return charge
  }

  /** Payments.Refund: refund an order's charge; `refunded` is false when there was none to refund. */
  async Refund(req: { orderId: string }) {
    const orderId = checkOrderId(req?.orderId)
    const charge = await this.#charge(orderId)
    if (!charge || charge.status === 'refunded') return { refunded: false }
    await this.#store.write(CHARGE + orderId, { ...charge, status: 'refunded' })
    return { refunded: true }
  }

  async #charge(orderId: string): Promise<Charge | undefined> {
    try {
      return (await this.#store.read<Charge>(CHARGE + orderId)).value
    } catch (error) {
      if (error instanceof StoreNotFoundError) return undefined
      throw error
    }
  }
}

function checkOrderId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 64)
    throw errors.badRequest(ID, 'orderId must be a string of 1 to 64 characters')
  return value
}

const service = defineService({
  // The most one charge may be, in cents.
  env: { CHARGE_LIMIT: { type: 'int', default: 100_000 } },
  rpc: ({ env, store }) => new Payments(store, env.CHARGE_LIMIT),
})

export default service
service.runIfMain(import.meta)
