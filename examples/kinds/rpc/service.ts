/**
 * inventory: an rpc service with typed env, free-form settings and a streaming endpoint.
 */
import { defineService, errors } from 'micro-ts'

export class Inventory {
  readonly #stock = new Map<string, number>()

  constructor(items: string[], initial: number) {
    for (const item of items) this.#stock.set(item, initial)
  }

  /** Inventory.Reserve: take `count` of an item; 409 when there are not enough. */
  async Reserve(req: { item: string; count?: number }) {
    const left = this.#stock.get(req.item)
    if (left === undefined) throw errors.badRequest('inventory', 'unknown item %s', req.item)
    const count = req.count ?? 1
    if (count > left) throw errors.conflict('inventory', 'only %d %s left', left, req.item)
    this.#stock.set(req.item, left - count)
    return { item: req.item, left: left - count }
  }

  /** Inventory.Stock: what is left of every item, one message each (a stream). */
  async *Stock(input: AsyncIterable<{ item: string }>) {
    for await (const req of input) yield { item: req.item, left: this.#stock.get(req.item) ?? 0 }
  }
}

const service = defineService({
  env: { INITIAL_STOCK: { type: 'int', default: 10 } },
  rpc: ({ env, settings, logger }) => {
    const items = Array.isArray(settings.items) ? settings.items.map(String) : []
    logger.info('stocking', { items, each: env.INITIAL_STOCK })
    return new Inventory(items, env.INITIAL_STOCK)
  },
})

export default service
// `node` on this file (once built) runs the service too; `micro run` only imports it.
service.runIfMain(import.meta)
