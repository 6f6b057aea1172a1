import type { Context } from '../server/context.js'
import type { HandlerFn } from '../server/handlers.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import type { Bulkhead } from './bulkhead.js'
import type { Resilience } from './resilience.js'

/**
 * The inbound policies of a service as a server wrapper: rate limits (429 with `retry after
 * N ms`) and a bulkhead (503 beyond its queue) per endpoint, resolved once when an endpoint
 * is wrapped. An endpoint without inbound policies keeps its handler as it is. Bulkheads
 * apply to unary endpoints (a stream would hold its slot for as long as it is open); rate
 * limits apply to both, counted when a stream opens.
 */
export function resilienceWrapper(resilience: Resilience): HandlerWrapper {
  return (next, info) => {
    const p = resilience.inbound(info.service, info.name)
    if (p === undefined) return next
    const { bulkhead, rateLimits } = p
    const limit = (ctx: Context) => {
      for (const limiter of rateLimits) limiter.take(ctx, info.service)
    }
    if (info.stream || bulkhead === undefined) {
      return (req, ctx) => {
        limit(ctx)
        return next(req, ctx)
      }
    }
    return (req, ctx) => {
      limit(ctx)
      const waiting = bulkhead.acquire(ctx.deadline, info.service)
      if (waiting === undefined) return run(next, req, ctx, bulkhead)
      return waiting.then(() => run(next, req, ctx, bulkhead))
    }
  }
}

function run(next: HandlerFn, req: unknown, ctx: Context, bulkhead: Bulkhead): unknown {
  let result: unknown
  try {
    result = next(req, ctx)
  } catch (error) {
    bulkhead.release()
    throw error
  }
  if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    return Promise.resolve(result).finally(() => bulkhead.release())
  }
  bulkhead.release()
  return result
}
