import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Broker } from '../broker/broker.js'
import type { ClientWrapper } from '../client/wrappers.js'
import type { HandleOptions } from '../server/handlers.js'
import type { HandlerWrapper } from '../server/wrappers.js'

/** A node-style HTTP handler, as `http.createServer` takes. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown

/**
 * HTTP middleware at the socket level, so it sees every request of the http kind whatever
 * the handler style: call `next()` to run the rest; it resolves when the response is done.
 */
export type HttpMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: () => Promise<void>,
) => Promise<void>

/** Readiness of the whole process, read by `/health` and the health feature. */
export class HealthState {
  /** True once every kind has started; false again as soon as stopping begins. */
  ready = false
  /** The readiness checks by name: each throws (or rejects) while not ready. */
  readonly checks = new Map<string, () => unknown>()
  /** How long one check may take, ms. */
  timeoutMs = 2000

  /** Run every check (each bounded by `timeoutMs`); ok when ready and no check threw. */
  async report(): Promise<{ status: 'ok' | 'unavailable'; checks: Record<string, string> }> {
    const timeoutMs = this.timeoutMs
    const checks: Record<string, string> = {}
    let ok = this.ready
    for (const [name, check] of this.checks) {
      try {
        await withTimeout(Promise.resolve().then(check), timeoutMs)
        checks[name] = 'ok'
      } catch (error) {
        ok = false
        checks[name] = (error as Error)?.message || String(error)
      }
    }
    return { status: ok ? 'ok' : 'unavailable', checks }
  }
}

function withTimeout(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * What features add to the kinds: RPC server and client middleware, HTTP middleware and
 * routes, extra RPC handlers, health checks. Filled during feature init, read when the
 * kinds start.
 */
export class Extensions {
  readonly serverWrappers: HandlerWrapper[] = []
  readonly clientWrappers: ClientWrapper[] = []
  readonly httpMiddleware: HttpMiddleware[] = []
  /** Exact paths served by the http kind outside its base path, e.g. `/metrics`. */
  readonly httpRoutes = new Map<string, NodeHandler>()
  readonly rpcHandlers: { target: object; options?: HandleOptions }[] = []
  /** Wrap the broker handlers get (the first is outermost): tracing carries context through publishes. */
  readonly brokerWrappers: ((broker: Broker) => Broker)[] = []
  readonly health = new HealthState()
}
