// A service for the CLI's dynamic command tests: endpoints with zod request schemas (so the
// registry carries their JSON Schemas), a bidirectional stream, a server stream, one
// endpoint without a schema and a second handler.
import { z } from 'zod'
import { createLogger } from '../../src/logger/logger.js'
import type { Registry } from '../../src/registry/registry.js'
import { endpoint } from '../../src/server/endpoint.js'
import { createService, type Service } from '../../src/service/service.js'

export const OrderRequest = z.object({
  item: z.string().describe('what to buy'),
  count: z.number().int().describe('how many'),
  price: z.number().optional(),
  gift: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  address: z.object({ city: z.string(), zip: z.string().optional() }).optional(),
  speed: z.enum(['slow', 'fast']).optional(),
})

/** The shop service, answering with `from` so a test can tell which instance replied. */
export async function startShop(options: {
  name?: string
  namespace: string
  from: string
  registry?: Registry
}): Promise<{ service: Service; calls: () => number }> {
  let calls = 0
  const from = options.from
  const shop = {
    PlaceOrder: endpoint({ request: OrderRequest }, async (req) => {
      calls++
      return { from, order: req }
    }),
    Hello: endpoint({ request: z.object({ name: z.string() }) }, async (req) => {
      calls++
      return { from, message: `Hello ${req.name}` }
    }),
    Chat: endpoint(
      { request: z.object({ name: z.string() }), stream: true },
      async function* (input: AsyncIterable<{ name: string }>) {
        for await (const message of input) yield { from, message: `Hello ${message.name}` }
      },
    ),
    Count: endpoint(
      { request: z.object({ to: z.number().int() }), stream: true },
      async function* (input: AsyncIterable<{ to: number }>) {
        for await (const message of input) for (let i = 1; i <= message.to; i++) yield { n: i }
      },
    ),
    Loose: async (req: unknown) => {
      calls++
      return { from, got: req }
    },
  }
  const name = options.name ?? 'shop'
  const handlerName = name.replace(/(^|-)(\w)/g, (_, _dash, c: string) => c.toUpperCase())
  const service = createService({
    name,
    namespace: options.namespace,
    registry: options.registry,
    logger: createLogger({ level: 'silent' }),
    handleSignals: false,
  })
  service.handle(shop, { name: handlerName, endpoints: ['PlaceOrder', 'Hello', 'Chat', 'Count', 'Loose'] })
  service.handle(
    {
      Reset: endpoint({ request: z.object({ hard: z.boolean().optional() }) }, async (req) => {
        calls++
        return { from, reset: req.hard === true }
      }),
    },
    { name: 'Admin', endpoints: ['Reset'] },
  )
  await service.start()
  return { service, calls: () => calls }
}
