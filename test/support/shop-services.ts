import { z } from 'zod'
import { createService, endpoint, errors, type Service } from '../../src/index.js'
import { createLogger } from '../../src/logger/logger.js'
import type { Registry } from '../../src/registry/registry.js'

/** An item; shared by two endpoints, so the document holds its schema once. */
export const Item = z.object({
  sku: z.string().describe('Stock keeping unit'),
  quantity: z.number().int().min(1),
  note: z.string().nullable(),
})

interface Category {
  name: string
  children: Category[]
}
const Category: z.ZodType<Category> = z.object({
  name: z.string(),
  get children() {
    return z.array(Category)
  },
})

/**
 * Real services with zod schemas, for the OpenAPI and client tests: `shop` (unary,
 * idempotent, scoped, streaming, recursive and shared schemas, typed errors) and `greeter`
 * (no schemas).
 */
export async function startShop(
  registry: Registry | undefined,
  namespace: string,
): Promise<{ services: Service[]; stop(): Promise<void> }> {
  // No registry: the default one (mDNS on loopback), which a CLI in a child process finds too.
  const logger = createLogger({ level: 'silent' })
  const shop = createService({
    name: 'shop',
    version: '1.2.0',
    registry,
    namespace,
    logger,
    handleSignals: false,
  })
  shop.handle(
    {
      Order: endpoint(
        {
          request: z.object({
            items: z.array(Item).min(1),
            rush: z.boolean().optional(),
            kind: z.enum(['retail', 'trade']),
          }),
          response: z.object({
            id: z.string(),
            total: z.number(),
            status: z.union([z.literal('open'), z.literal('held')]),
          }),
        },
        async (req) => {
          if (req.items.some((i) => i.sku === 'gone')) throw errors.notFound('shop', 'no such sku: gone')
          return { id: 'o-1', total: req.items.reduce((n, i) => n + i.quantity, 0), status: 'open' as const }
        },
      ),
      Quote: endpoint(
        {
          request: z.object({ items: z.array(Item) }),
          response: z.object({ total: z.number() }),
          idempotent: true,
        },
        async (req) => ({ total: req.items.length * 10 }),
      ),
      Tree: endpoint({ request: z.object({ root: Category }), response: Category }, async (req) => req.root),
      Cancel: endpoint(
        { request: z.object({ id: z.string() }), metadata: { scopes: 'orders.write,admin' } },
        async () => ({}),
      ),
      Watch: endpoint(
        { request: z.object({ id: z.string() }), response: z.object({ state: z.string() }) },
        async function* () {
          yield { state: 'packed' }
          yield { state: 'shipped' }
        },
      ),
    },
    { name: 'Shop' },
  )
  const greeter = createService({
    name: 'greeter',
    version: '1.0.0',
    registry,
    namespace,
    logger,
    handleSignals: false,
  })
  greeter.handle(
    { Hello: async (req: { name: string }) => ({ message: `Hello ${req.name}` }) },
    { name: 'Greeter' },
  )
  await shop.start()
  await greeter.start()
  return {
    services: [shop, greeter],
    async stop() {
      await greeter.stop()
      await shop.stop()
    },
  }
}
