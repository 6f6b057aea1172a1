import type { HttpMiddleware } from '../../definition/extensions.js'
import { MicroError } from '../../errors/errors.js'
import type { HandlerWrapper } from '../../server/wrappers.js'
import { onSettled } from '../settle.js'
import type { Counter, Gauge, Histogram } from './api.js'
import type { MetricsRegistry } from './registry.js'

/** Distinct HTTP endpoint labels kept before new ones are counted as `other` (bounds memory). */
const MAX_HTTP_ENDPOINTS = 200

/**
 * The request metrics every kind reports: count, latency and in-flight, by service, kind,
 * endpoint and code (an RPC endpoint is `Handler.Method` with the MicroError code, 200 on
 * success; an HTTP endpoint is `METHOD /path` with ids folded to `:id`, and the status).
 */
export class RequestMetrics {
  readonly #requests: Counter
  readonly #duration: Histogram
  readonly #inFlight: Gauge
  readonly #service: string
  readonly #httpEndpoints = new Set<string>()

  constructor(registry: MetricsRegistry, service: string) {
    this.#service = service
    this.#requests = registry.counter('micro_requests_total', 'Requests handled, by endpoint and code.')
    this.#duration = registry.histogram(
      'micro_request_duration_seconds',
      'Time to handle a request, in seconds.',
    )
    this.#inFlight = registry.gauge('micro_requests_in_flight', 'Requests being handled now.')
  }

  /** Count one request; call the returned function with its code when it is done. */
  begin(kind: string, endpoint: string): (code: number) => void {
    const labels = { service: this.#service, kind, endpoint }
    this.#inFlight.inc(labels)
    const started = performance.now()
    return (code) => {
      this.#inFlight.dec(labels)
      const done = { ...labels, code }
      this.#requests.inc(done)
      this.#duration.observe(done, (performance.now() - started) / 1000)
    }
  }

  serverWrapper(): HandlerWrapper {
    return (next, endpoint) => (req, ctx) => {
      const end = this.begin('rpc', endpoint.name)
      let result: unknown
      try {
        result = next(req, ctx)
      } catch (error) {
        end(MicroError.from(error).code)
        throw error
      }
      return onSettled(result, (error) => end(error === undefined ? 200 : MicroError.from(error).code))
    }
  }

  httpMiddleware(): HttpMiddleware {
    return async (req, res, next) => {
      const end = this.begin('http', this.#httpEndpoint(req.method ?? 'GET', req.url ?? '/'))
      try {
        await next()
      } finally {
        end(res.statusCode)
      }
    }
  }

  #httpEndpoint(method: string, url: string): string {
    const path = (url.split('?', 1)[0] as string)
      .split('/')
      .map((segment) => (isId(segment) ? ':id' : segment))
      .join('/')
    const endpoint = `${method} ${path}`
    if (this.#httpEndpoints.has(endpoint)) return endpoint
    if (this.#httpEndpoints.size >= MAX_HTTP_ENDPOINTS) return `${method} other`
    this.#httpEndpoints.add(endpoint)
    return endpoint
  }
}

/** Path segments that are ids (numbers, UUIDs, long hex or long tokens) rather than routes. */
function isId(segment: string): boolean {
  return (
    /^\d+$/.test(segment) ||
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(segment) ||
    /^[0-9a-f]{16,}$/i.test(segment) ||
    segment.length > 32
  )
}
