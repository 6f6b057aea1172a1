import { create } from '@bufbuild/protobuf'
import { notFound } from '../../errors/errors.js'
import type { Context } from '../../server/context.js'
import {
  Health,
  type HealthCheckRequest,
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as Status,
} from './gen/grpc/health/v1/health_pb.js'
import { type GrpcHandler, grpcHandler } from './handler.js'
import type { GrpcRegistration } from './registration.js'

/** What the health service asks the service it reports on. */
export interface HealthSource {
  /** The service's name: a Check for it (or for "") reports the whole service. */
  readonly name: string
  /** Whether it serves now: started, not draining, every readiness check passing. */
  serving(): Promise<boolean>
  /** Whether it is shutting down (Watch streams report NOT_SERVING and end). */
  readonly draining: boolean
  /** Whether `service` (a protobuf full name, `helloworld.Greeter`) is served here. */
  serves(service: string): boolean
}

/** How often a Watch looks at the status again, ms. */
const WATCH_INTERVAL = 1000

/**
 * `grpc.health.v1.Health`: Check answers SERVING or NOT_SERVING for the whole service
 * (`""` or its name) or one protobuf service it serves, NOT_FOUND for others; Watch sends
 * the status, then every change, and NOT_SERVING when the service drains (then ends, so
 * the drain is not held up).
 */
export function healthService(source: HealthSource): GrpcRegistration {
  const known = (service: string) => service === '' || service === source.name || source.serves(service)
  const status = async () => ((await source.serving()) ? Status.SERVING : Status.NOT_SERVING)
  const impl: GrpcHandler<typeof Health> = {
    async check(req: HealthCheckRequest): Promise<HealthCheckResponse> {
      if (!known(req.service)) throw notFound(source.name, `unknown service ${req.service}`)
      return create(HealthCheckResponseSchema, { status: await status() })
    },
    async *watch(req: HealthCheckRequest, ctx: Context): AsyncIterable<HealthCheckResponse> {
      const isKnown = known(req.service)
      let last: Status | undefined
      while (!ctx.signal.aborted) {
        const now = !isKnown ? Status.SERVICE_UNKNOWN : source.draining ? Status.NOT_SERVING : await status()
        if (now !== last) {
          last = now
          yield create(HealthCheckResponseSchema, { status: now })
        }
        if (source.draining) return
        await sleep(WATCH_INTERVAL, ctx.signal)
      }
    },
  }
  return grpcHandler(Health, impl)
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
