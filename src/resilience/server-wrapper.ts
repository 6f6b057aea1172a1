import type { Context } from '../server/context.js'
import type { HandlerWrapper } from '../server/wrappers.js'
import { turnClock } from '../util/clock.js'
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
      // One cheap clock reading for every limit of the call: a bucket refilled up to one loop
      // turn late errs on the strict side, and a system clock read costs 80-180 ns here.
      const now = turnClock()
      for (const limiter of rateLimits) limiter.take(ctx, info.service, now)
    }
    if (info.stream || bulkhead === undefined) {
      if (rateLimits.length === 0) return next
      return (req, ctx) => {
        limit(ctx)
        return next(req, ctx)
      }
    }
    // Made once per endpoint. The slot is given back beside the caller's own reaction to the
    // handler's promise, not before it: the reply does not wait an extra turn of the queue.
    const release = () => bulkhead.release()
    const run = (req: unknown, ctx: Context): unknown => {
      let result: unknown
      try {
        result = next(req, ctx)
      } catch (error) {
        bulkhead.release()
        throw error
      }
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        ;(result as PromiseLike<unknown>).then(release, release)
        return result
      }
      bulkhead.release()
      return result
    }
    return (req, ctx) => {
      if (rateLimits.length > 0) limit(ctx)
      // A free slot needs no deadline (reading it costs a clock reading); a wait does.
      if (bulkhead.tryAcquire()) return run(req, ctx)
      const waiting = bulkhead.acquire(ctx.deadline, info.service)
      if (waiting === undefined) return run(req, ctx)
      return waiting.then(() => run(req, ctx))
    }
  }
}
