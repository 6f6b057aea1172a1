import type { ClientWrapper } from '../../client/wrappers.js'
import type { HttpMiddleware } from '../../definition/extensions.js'
import type { HandlerWrapper } from '../../server/wrappers.js'
import type { Spans } from './spans.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

/**
 * Server middleware: each call runs in a server span continuing the caller's `traceparent`.
 * Named and described by the stable RPC conventions: the span name and `rpc.method` are the
 * endpoint (`Greeter.Hello`, micro's fully qualified method), `server.address` the service.
 */
export function tracingServerWrapper(spans: Spans): HandlerWrapper {
  return (next, endpoint) => (req, ctx) => {
    const parent = parseTraceparent(ctx.metadata.traceparent, ctx.metadata.tracestate)
    const attributes: Record<string, string | boolean> = {
      'rpc.system.name': 'micro',
      'rpc.method': endpoint.name,
      'server.address': endpoint.service,
    }
    if (endpoint.stream) attributes['micro.stream'] = true
    const active = spans.start(endpoint.name, 'server', parent, attributes, true)
    return spans.within(active, () => next(req, ctx))
  }
}

/**
 * Client middleware: each call gets a client span, child of the current span (or of the
 * handler context passed as `context`), and sends its `traceparent` on.
 */
export function tracingClientWrapper(spans: Spans): ClientWrapper {
  return (next) => (request) => {
    // A traceparent the caller set itself wins; then the current span; then the handler context passed on.
    const own = request.options.metadata
    const inherited = request.options.context?.metadata
    const parent =
      parseTraceparent(own?.traceparent, own?.tracestate) ??
      (spans.current() ? undefined : parseTraceparent(inherited?.traceparent, inherited?.tracestate))
    const active = spans.start(
      request.endpoint,
      'client',
      parent,
      { 'rpc.system.name': 'micro', 'rpc.method': request.endpoint, 'server.address': request.service },
      true,
    )
    const metadata: Record<string, string> = {
      ...request.options.metadata,
      traceparent: formatTraceparent(active.trace),
    }
    if (active.trace.state) metadata.tracestate = active.trace.state
    return spans.within(active, () => next({ ...request, options: { ...request.options, metadata } }))
  }
}

/** HTTP middleware: each request runs in a server span continuing its `traceparent` header. */
export function tracingHttpMiddleware(spans: Spans): HttpMiddleware {
  return async (req, res, next) => {
    const header = req.headers.traceparent
    const state = req.headers.tracestate
    const parent = parseTraceparent(
      Array.isArray(header) ? header[0] : header,
      Array.isArray(state) ? state.join(',') : state,
    )
    const path = (req.url ?? '/').split('?', 1)[0] as string
    const active = spans.start(`${req.method} ${path}`, 'server', parent, {
      'http.request.method': req.method ?? 'GET',
      'url.path': path,
    })
    try {
      await spans.run(active, next)
      active.span.setAttribute('http.response.status_code', res.statusCode)
      spans.end(active, res.statusCode >= 500 ? new Error(`HTTP ${res.statusCode}`) : undefined)
    } catch (error) {
      spans.end(active, error)
      throw error
    }
  }
}
