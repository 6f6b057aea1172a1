import { listenHttp } from '../http/listen.js'
import { HttpRouter } from '../http/router.js'
import { createGateway, type Gateway } from './gateway.js'
import type { GatewayOptions } from './options.js'

/** The default address of `micro api` (loopback: nothing is exposed without asking). */
export const DEFAULT_GATEWAY_ADDRESS = '127.0.0.1:8080'

/** A gateway listening on its own port. */
export interface ServedGateway {
  readonly gateway: Gateway
  /** `host:port` bound. */
  readonly address: string
  /** Stop listening, close streams, watches and connections. */
  close(): Promise<void>
}

/**
 * Serve a gateway alone on `address` (MICRO_GATEWAY_ADDRESS, default 127.0.0.1:8080; port
 * 0 for any free port), as `micro api` does. Other paths get a 404 error JSON. Slow
 * clients are bounded by the headers and read timeouts of the options.
 */
export async function serveGateway(
  options: GatewayOptions & { address?: string } = {},
): Promise<ServedGateway> {
  const gateway = createGateway(options)
  const router = new HttpRouter().use(gateway)
  const address = options.address ?? (process.env.MICRO_GATEWAY_ADDRESS || DEFAULT_GATEWAY_ADDRESS)
  let listener: Awaited<ReturnType<typeof listenHttp>>
  try {
    listener = await listenHttp(address, router, gateway.settings.limits)
  } catch (error) {
    await gateway.close()
    throw error
  }
  return {
    gateway,
    address: listener.address,
    async close() {
      await Promise.all([listener.close(), gateway.close()])
    },
  }
}
