/**
 * pricing: the TypeScript side of the sidecar example. The Python app calls
 * `Pricing.Quote` through its sidecar; `Pricing.Set` changes a price and publishes
 * `prices.changed`, which the Python app subscribes to; every order the Python app
 * publishes on `orders.created` is printed as one JSON line.
 *
 *   node build/examples/sidecar-python/pricing.js
 */
import { type Context, createService, errors } from 'micro-ts'

interface Quote {
  item: string
  quantity: number
}

const prices = new Map([
  ['tea', 4],
  ['coffee', 3],
])

const service = createService({ name: 'pricing' })

class Pricing {
  /** Pricing.Quote: the price of `quantity` of `item`; 404 for an item without a price. */
  async Quote(req: Quote, ctx: Context) {
    const unit = prices.get(req.item)
    if (unit === undefined) throw errors.notFound('pricing', `no price for ${req.item}`)
    if (!Number.isInteger(req.quantity) || req.quantity < 1) {
      throw errors.badRequest('pricing', 'quantity must be a whole number above 0')
    }
    return { item: req.item, unit, total: unit * req.quantity, caller: ctx.metadata['micro-caller'] }
  }

  /** Pricing.Set: change a price and tell subscribers on `prices.changed`. */
  async Set(req: { item: string; price: number }) {
    prices.set(req.item, req.price)
    await service.client.publish('prices.changed', { item: req.item, price: req.price })
    return { item: req.item, price: req.price }
  }
}

service.handle(new Pricing())
await service.subscribe('orders.created', (order: unknown, ctx) => {
  console.log(JSON.stringify({ order, caller: ctx.metadata['micro-caller'] }))
})
await service.run()
console.log(`pricing serving on ${service.address}`)
