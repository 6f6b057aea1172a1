import { createService } from '../../service/service.js'
import { isRpcRegistration } from '../define.js'
import type { Kind, KindContext, RunningKind } from '../kind.js'
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
 * The rpc kind: the micro server (createService) serving the handler(s) the definition's
 * `rpc` factory returns, registered in the registry, with the features' server
 * middleware and handlers. `rpc:7070` listens on that port; without one the service's
 * usual address applies (MICRO_SERVER_ADDRESS, default any free port on loopback).
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
  async start(ctx: KindContext<RpcSettings>): Promise<RunningKind> {
    const { service, settings, port } = ctx
    const address =
      port !== undefined || settings.host !== undefined
        ? `${settings.host ?? '127.0.0.1'}:${port ?? 0}`
        : undefined
    const metadata: Record<string, string> = { kinds: service.kinds.join(',') }
    if (service.product) metadata.product = service.product
    const server = createService({
      name: service.name,
      version: service.version,
      metadata,
      namespace: service.namespace,
      registry: ctx.registry,
      address,
      advertise: settings.advertise,
      shutdownTimeout: settings.shutdownTimeout,
      maxFrameSize: settings.maxBody,
      handleSignals: false,
      logger: ctx.deps.logger,
      wrappers: ctx.extensions.serverWrappers,
    })
    const handlers = await ctx.factory(ctx.deps)
    const list = Array.isArray(handlers) ? handlers : [handlers]
    if (list.length === 0 || list.some((h) => typeof h !== 'object' || h === null)) {
      throw new TypeError(
        'the rpc factory must return a handler object (a class instance or rpcHandler(...)) or an array of them',
      )
    }
    for (const handler of list as object[]) {
      if (isRpcRegistration(handler)) server.handle(handler.target, handler.options)
      else if (Object.getPrototypeOf(handler) === Object.prototype) {
        throw new TypeError(
          "the rpc factory returned a plain object, which has no handler name: use a class, or rpcHandler(obj, { name: 'Orders' })",
        )
      } else server.handle(handler)
    }
    for (const { target, options } of ctx.extensions.rpcHandlers) server.handle(target, options)
    await server.start()
    return {
      info: () => ({ address: server.address, endpoints: server.server.endpoints().length }),
      stop: () => server.stop(),
    }
  },
}
