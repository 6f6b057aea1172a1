/**
 * inventory: products and their stock, in the store. An order reserves stock for all its
 * lines or none, and releases it when the order fails. Both are idempotent per order (the
 * reservation is a record keyed by the order id), so a retried call never takes or gives
 * back stock twice.
 */
import { defineService, errors, type Store, StoreNotFoundError, type Sync } from 'micro-ts'

/** A product as the store keeps it; prices in cents. */
export interface Product {
  id: string
  name: string
  price: number
  stock: number
}

/** One line of an order. */
export interface Line {
  product: string
  quantity: number
}

/** Stock taken for one order, with the prices it was taken at. */
export interface Reservation {
  orderId: string
  lines: (Line & { price: number })[]
  total: number
  released: boolean
}

const ID = 'inventory'
const PRODUCT = 'product:'
const RESERVATION = 'reservation:'

export class Inventory {
  readonly #store: Store
  readonly #sync: Sync

  constructor(store: Store, sync: Sync) {
    this.#store = store
    this.#sync = sync
  }

  /** Inventory.List: every product with its price and stock. */
  async List() {
    const records = await this.#store.read<Product>({ prefix: PRODUCT })
    return { products: records.map((r) => r.value) }
  }

  /** Inventory.Reserve: take the stock of every line, or none (409 when one is short). */
  async Reserve(req: { orderId: string; lines: Line[] }): Promise<Reservation> {
    const orderId = checkOrderId(req?.orderId)
    const lines = mergeLines(req.lines)
    return this.#locked(async () => {
      const done = await this.#reservation(orderId)
      if (done) return done
      const products: Product[] = []
      for (const line of lines) {
        const product = await this.#product(line.product)
        if (product.stock < line.quantity)
          throw errors.conflict(ID, 'only %d %s left', product.stock, product.id)
        products.push({ ...product, stock: product.stock - line.quantity })
      }
      const priced = lines.map((line, i) => ({ ...line, price: (products[i] as Product).price }))
      const reservation: Reservation = {
        orderId,
        lines: priced,
        total: priced.reduce((sum, l) => sum + l.price * l.quantity, 0),
        released: false,
      }
      for (const product of products) await this.#store.write(PRODUCT + product.id, product)
      await this.#store.write(RESERVATION + orderId, reservation)
      return reservation
    })
  }

  /** Inventory.Release: give an order's stock back; `released` is false when it held none. */
  async Release(req: { orderId: string }) {
    const orderId = checkOrderId(req?.orderId)
    return this.#locked(async () => {
      const reservation = await this.#reservation(orderId)
      if (!reservation || reservation.released) return { released: false }
      for (const line of reservation.lines) {
        const product = await this.#product(line.product)
        await this.#store.write(PRODUCT + product.id, { ...product, stock: product.stock + line.quantity })
      }
      await this.#store.write(RESERVATION + orderId, { ...reservation, released: true })
      return { released: true }
    })
  }

  /** Stock the products of the toml that the store does not have yet. */
  async seed(products: Product[]): Promise<void> {
    for (const product of products) {
      if (!(await find(this.#store, PRODUCT + product.id)))
        await this.#store.write(PRODUCT + product.id, product)
    }
  }

  // One lock for every change of stock: a read and its write are never interleaved with
  // another order's, in this process or in another instance.
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const lock = await this.#sync.lock(ID, { wait: 5_000 })
    try {
      return await fn()
    } finally {
      await lock.unlock()
    }
  }

  async #product(id: string): Promise<Product> {
    const product = await find<Product>(this.#store, PRODUCT + id)
    if (!product) throw errors.badRequest(ID, 'unknown product %s', id)
    return product
  }

  #reservation(orderId: string): Promise<Reservation | undefined> {
    return find<Reservation>(this.#store, RESERVATION + orderId)
  }
}

/** A record's value, or undefined when there is no such record. */
async function find<T>(store: Store, key: string): Promise<T | undefined> {
  try {
    return (await store.read<T>(key)).value
  } catch (error) {
    if (error instanceof StoreNotFoundError) return undefined
    throw error
  }
}

function checkOrderId(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 64)
    throw errors.badRequest(ID, 'orderId must be a string of 1 to 64 characters')
  return value
}

/** The lines with each product once (two lines of mugs are one line). */
function mergeLines(value: unknown): Line[] {
  if (!Array.isArray(value) || value.length === 0)
    throw errors.badRequest(ID, 'lines must be a non-empty list')
  const quantities = new Map<string, number>()
  for (const line of value as Partial<Line>[]) {
    if (
      typeof line?.product !== 'string' ||
      !Number.isInteger(line.quantity) ||
      (line.quantity as number) < 1
    )
      throw errors.badRequest(ID, 'each line needs a product and a quantity of at least 1')
    quantities.set(line.product, (quantities.get(line.product) ?? 0) + (line.quantity as number))
  }
  return [...quantities].map(([product, quantity]) => ({ product, quantity }))
}

/** The `[[service.products]]` of the toml, checked. */
function productsOf(settings: unknown): Product[] {
  if (!Array.isArray(settings)) return []
  return settings.map((p: Partial<Product>, i) => {
    if (
      typeof p?.id !== 'string' ||
      typeof p.name !== 'string' ||
      !Number.isInteger(p.price) ||
      !Number.isInteger(p.stock)
    )
      throw new TypeError(`service.products[${i}]: needs id, name, price (cents) and stock`)
    return { id: p.id, name: p.name, price: p.price as number, stock: p.stock as number }
  })
}

const service = defineService({
  rpc: async ({ settings, store, sync, logger }) => {
    const inventory = new Inventory(store, sync)
    const products = productsOf(settings.products)
    await inventory.seed(products)
    logger.info('stocked', { products: products.map((p) => p.id) })
    return inventory
  },
})

export default service
service.runIfMain(import.meta)
