import { isRpcRegistration } from '../define.js'
import type { Kind, KindContext, KindServiceOptions, RunningKind } from '../kind.js'
import type { TableReader } from '../table.js'

/** `[runtime.rpc]` */
export interface RpcSettings {
  /** Interface to listen on. Default 127.0.0.1 (MICRO_SERVER_ADDRESS when types gives no port). */
  host: string | undefined
  /** `host:port` to publish in the registry. */
  advertise: string | undefined
  /** How long a stop waits for calls in flight, ms. */
  shutdownTimeout: number | undefined
  /** Largest frame or HTTP body accepted, bytes. */
  maxBody: number | undefined
}

/**
 * The rpc kind: the service stack's micro server (the one `createService` makes) serving
 * the handler(s) the definition's `rpc` factory returns, registered in the registry, with
 * the features' server middleware and handlers, and `GET /health`, `/health/live`,
 * `/health/ready` on the same port for probes. `rpc:7070` listens on that port; without
 * one the service's usual address applies (MICRO_SERVER_ADDRESS, default any free port on
 * loopback).
 */
export const rpcKind: Kind<RpcSettings> = {
  name: 'rpc',
  port: {},
  configure(reader: TableReader): RpcSettings {
    return {
      host: reader.string('host'),
      advertise: reader.string('advertise'),
      shutdownTimeout: reader.duration('shutdown_timeout'),
      maxBody: reader.size('max_body'),
    }
  },
  serviceOptions(settings, port): KindServiceOptions {
    const address =
      port !== undefined || settings.host !== undefined
        ? `${settings.host ?? '127.0.0.1'}:${port ?? 0}`
        : undefined
    return {
      listen: true,
      address,
      advertise: settings.advertise,
      shutdownTimeout: settings.shutdownTimeout,
      maxFrameSize: settings.maxBody,
    }
  },
  async start(ctx: KindContext<RpcSettings>): Promise<RunningKind> {
    const { stack } = ctx
    const handlers = await ctx.factory(ctx.deps)
    const list = Array.isArray(handlers) ? handlers : [handlers]
    if (list.length === 0 || list.some((h) => typeof h !== 'object' || h === null)) {
      throw new TypeError(
        'the rpc factory must return a handler object (a class instance or rpcHandler(...)) or an array of them',
      )
    }
    for (const handler of list as object[]) {
      if (isRpcRegistration(handler)) stack.handle(handler.target, handler.options)
      else if (Object.getPrototypeOf(handler) === Object.prototype) {
        throw new TypeError(
          "the rpc factory returned a plain object, which has no handler name: use a class, or rpcHandler(obj, { name: 'Orders' })",
        )
      } else stack.handle(handler)
    }
    // Another kind of the process may have started the stack already.
    if (stack.state === 'new') await stack.start()
    return {
      info: () => ({ address: stack.address, endpoints: stack.server.endpoints().length }),
      stop: () => stack.drain(),
    }
  },
}
