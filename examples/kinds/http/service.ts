/**
 * shop: an http service. The handler is fetch-style, `(request) => Response`, so a Hono
 * app's `app.fetch` fits as it is; a node `(req, res)` handler works too. Returned as
 * `{ fetch, routes }` (a Hono app has both), its routes are advertised in the registry and
 * listed by `micro services`.
 */
import { defineService } from 'micro-ts'

interface Item {
  id: number
  name: string
}

const service = defineService({
  env: { SHOP_TITLE: 'string', MAX_ITEMS: { type: 'int', default: 100 } },
  http: ({ env, features }) => {
    const items: Item[] = []
    const sold = features.metrics?.counter('shop_items_added_total', 'Items added to the shop.')
    const routes = [
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/items' },
      { method: 'POST', path: '/items' },
    ]
    const fetch = async (request: Request) => {
      const { pathname } = new URL(request.url)
      if (pathname === '/') return Response.json({ title: env.SHOP_TITLE, items: items.length })
      if (pathname === '/items' && request.method === 'GET') return Response.json(items)
      if (pathname === '/items' && request.method === 'POST') {
        const body = (await request.json().catch(() => undefined)) as { name?: unknown } | undefined
        if (typeof body?.name !== 'string')
          return Response.json({ error: 'name must be a string' }, { status: 400 })
        if (items.length >= env.MAX_ITEMS)
          return Response.json({ error: 'the shop is full' }, { status: 409 })
        const item = { id: items.length + 1, name: body.name }
        items.push(item)
        sold?.inc()
        return Response.json(item, { status: 201 })
      }
      return Response.json({ error: `no route ${request.method} ${pathname}` }, { status: 404 })
    }
    return { fetch, routes }
  },
})

export default service
service.runIfMain(import.meta)
