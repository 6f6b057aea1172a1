import { badRequest, serviceUnavailable } from '../../errors/errors.js'
import { openApiDocument } from '../../platform/openapi/document.js'
import { callOnce, noClient, planCall, type StreamSessions } from './calls.js'
import type { CatalogView } from './catalog.js'
import { DASHBOARD_ID, sendError, sendJson, startSse } from './http.js'
import { HANDLED, type Route, type RouteContext } from './router.js'

/** What the service and call routes share. */
export interface ServiceRouteDeps {
  catalog: CatalogView
  streams: StreamSessions
  /** The token of the request, forwarded with explorer calls when auth is on. */
  tokenOf(ctx: RouteContext): string | undefined
}

/** Services, the catalog, the search index, and the API explorer's calls and streams. */
export function serviceRoutes({ catalog, streams, tokenOf }: ServiceRouteDeps): Route[] {
  const client = (ctx: RouteContext) => {
    if (!ctx.sources.client) throw noClient()
    return ctx.sources.client
  }
  return [
    {
      method: 'GET',
      path: '/services',
      handler: async (ctx) => ({ services: await catalog.summaries(ctx.namespace) }),
    },
    {
      method: 'GET',
      path: '/services/:name',
      handler: (ctx) => catalog.service(ctx.namespace, ctx.params.name as string),
    },
    {
      method: 'GET',
      path: '/endpoints',
      handler: async (ctx) => ({ endpoints: await catalog.endpoints(ctx.namespace) }),
    },
    {
      // The OpenAPI 3.1 document of the namespace (what /openapi.json serves), for the reference page.
      method: 'GET',
      path: '/openapi',
      handler: async (ctx) => {
        const registry = ctx.sources.registry
        if (!registry) throw serviceUnavailable(DASHBOARD_ID, 'no registry is configured')
        return openApiDocument(() => registry.listServices(ctx.namespace), { namespace: ctx.namespace })
      },
    },
    {
      method: 'POST',
      path: '/call',
      mutates: true,
      async handler(ctx) {
        const source = client(ctx)
        const plan = planCall(await ctx.body(), ctx.namespace, tokenOf(ctx))
        const headers = { 'micro-trace-id': plan.traceId }
        try {
          const { reply, duration } = await callOnce(source, plan)
          // A reply of `undefined` (a handler returning nothing) is JSON null.
          sendJson(ctx.res, reply ?? null, 200, { ...headers, 'micro-duration': duration.toFixed(1) })
        } catch (error) {
          const duration = (error as { duration?: number }).duration ?? 0
          sendError(ctx.res, error, { ...headers, 'micro-duration': duration.toFixed(1) })
        }
        return HANDLED
      },
    },
    {
      method: 'POST',
      path: '/streams',
      mutates: true,
      async handler(ctx) {
        const source = client(ctx)
        const plan = planCall(await ctx.body(), ctx.namespace, tokenOf(ctx))
        return { id: streams.open(source, plan, ctx.identity?.id), traceId: plan.traceId }
      },
    },
    {
      method: 'GET',
      path: '/streams/:id',
      handler(ctx) {
        // Looked up before answering 200, so a bad id gets a 404 rather than an empty stream.
        streams.assertOwned(ctx.params.id as string, ctx.identity?.id)
        streams.watch(ctx.params.id as string, ctx.identity?.id, startSse(ctx.req, ctx.res))
        return HANDLED
      },
    },
    {
      method: 'POST',
      path: '/streams/:id/send',
      mutates: true,
      async handler(ctx) {
        const body = await ctx.body()
        if (!('message' in body)) throw badRequest(DASHBOARD_ID, 'message is required')
        await streams.send(ctx.params.id as string, ctx.identity?.id, body.message)
        return { sent: true }
      },
    },
    {
      method: 'POST',
      path: '/streams/:id/close',
      mutates: true,
      async handler(ctx) {
        await streams.closeSend(ctx.params.id as string, ctx.identity?.id)
        return { closed: true }
      },
    },
    {
      method: 'DELETE',
      path: '/streams/:id',
      mutates: true,
      handler(ctx) {
        streams.cancel(ctx.params.id as string, ctx.identity?.id)
        return { canceled: true }
      },
    },
  ]
}
