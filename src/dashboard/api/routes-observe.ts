import { badRequest, notFound, serviceUnavailable } from '../../errors/errors.js'
import type { RuntimeSource, TraceSource } from '../sources.js'
import { DASHBOARD_ID, intParam, startSse } from './http.js'
import { enrich, passes } from './log-lines.js'
import { HANDLED, type Route, type RouteContext } from './router.js'
import type { TraceFilter } from './types.js'

const TRACE_ID = /^[0-9a-f]{32}$/
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal'])

function traces(ctx: RouteContext): TraceSource {
  if (!ctx.sources.traces) throw serviceUnavailable(DASHBOARD_ID, 'tracing is not configured')
  return ctx.sources.traces
}

function runtime(ctx: RouteContext): RuntimeSource {
  if (!ctx.sources.runtime) throw serviceUnavailable(DASHBOARD_ID, 'no runtime is configured')
  return ctx.sources.runtime
}

/** The trace list's filters from the query string, checked. */
export function traceFilter(query: URLSearchParams): TraceFilter {
  const filter: TraceFilter = { limit: intParam(query.get('limit'), 'limit', 100, 1000, 1) }
  const service = query.get('service')
  if (service) filter.service = service.slice(0, 256)
  const endpoint = query.get('endpoint')
  if (endpoint) filter.endpoint = endpoint.slice(0, 256)
  const status = query.get('status')
  if (status) {
    if (status !== 'ok' && status !== 'error') throw badRequest(DASHBOARD_ID, 'status must be ok or error')
    filter.status = status
  }
  const min = query.get('minDuration')
  if (min) filter.minDuration = intParam(min, 'minDuration', 0, 86_400_000)
  const max = query.get('maxDuration')
  if (max) filter.maxDuration = intParam(max, 'maxDuration', 0, 86_400_000)
  const since = query.get('since')
  if (since) filter.since = intParam(since, 'since', 0, Number.MAX_SAFE_INTEGER)
  return filter
}

/** Traces, RED series, topology, last errors; runtime status, logs, restart and stop. */
export function observeRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/traces',
      handler: async (ctx) => ({ traces: await traces(ctx).list(traceFilter(ctx.query)) }),
    },
    {
      method: 'GET',
      path: '/traces/live',
      handler(ctx) {
        const source = traces(ctx)
        const sse = startSse(ctx.req, ctx.res)
        const stop = source.subscribe((trace) => sse.send('trace', trace))
        sse.signal.addEventListener('abort', stop)
        return HANDLED
      },
    },
    {
      method: 'GET',
      path: '/traces/:id',
      async handler(ctx) {
        const id = (ctx.params.id as string).toLowerCase()
        if (!TRACE_ID.test(id)) throw badRequest(DASHBOARD_ID, 'a trace id is 32 hex digits')
        const spans = await traces(ctx).get(id)
        if (!spans || spans.length === 0) throw notFound(DASHBOARD_ID, `no trace ${id}`)
        return { traceId: id, spans: [...spans].sort((a, b) => a.start - b.start) }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handler: async (ctx) => ({
        services: await traces(ctx).red({
          window: intParam(ctx.query.get('window'), 'window', 300_000, 86_400_000, 1000),
          buckets: intParam(ctx.query.get('buckets'), 'buckets', 30, 120, 1),
        }),
      }),
    },
    {
      method: 'GET',
      path: '/topology',
      handler: async (ctx) => ({
        edges: await traces(ctx).topology({
          window: intParam(ctx.query.get('window'), 'window', 900_000, 86_400_000, 1000),
        }),
      }),
    },
    {
      method: 'GET',
      path: '/errors',
      handler: async (ctx) => ({
        errors: await traces(ctx).errors(intParam(ctx.query.get('limit'), 'limit', 20, 200, 1)),
      }),
    },
    {
      method: 'GET',
      path: '/runtime',
      handler: async (ctx) => ({ services: await runtime(ctx).list(ctx.namespace) }),
    },
    {
      method: 'GET',
      path: '/logs',
      handler(ctx) {
        const source = runtime(ctx)
        const level = ctx.query.get('level') || undefined
        if (level !== undefined && !LEVELS.has(level))
          throw badRequest(DASHBOARD_ID, `level must be one of ${[...LEVELS].join(', ')}`)
        const text = ctx.query.get('q')?.slice(0, 256) || undefined
        const service = ctx.query.get('service') || undefined
        const lines = intParam(ctx.query.get('lines'), 'lines', 200, 5000)
        const follow = ctx.query.get('follow') !== '0'
        const sse = startSse(ctx.req, ctx.res)
        void (async () => {
          try {
            const options = { namespace: ctx.namespace, lines, follow, signal: sse.signal }
            for await (const raw of source.logs(service ? { ...options, service } : options)) {
              const line = enrich(raw)
              if (passes(line, level, text)) sse.send('line', line)
            }
            sse.send('end', {})
          } catch (error) {
            if (!sse.signal.aborted) sse.send('error', { detail: (error as Error).message })
          }
          sse.end()
        })()
        return HANDLED
      },
    },
    {
      method: 'POST',
      path: '/runtime/:name/restart',
      mutates: true,
      async handler(ctx) {
        await runtime(ctx).restart(ctx.params.name as string, ctx.namespace)
        return { restarted: ctx.params.name }
      },
    },
    {
      method: 'POST',
      path: '/runtime/:name/stop',
      mutates: true,
      async handler(ctx) {
        await runtime(ctx).stop(ctx.params.name as string, ctx.namespace)
        return { stopped: ctx.params.name }
      },
    },
  ]
}
