import { MicroTransport } from './micro-transport.js'
import { NatsTransport } from './nats-transport.js'
import type { Transport } from './transport.js'

/** Transport names `createTransport` understands. */
export const TRANSPORT_NAMES = ['micro', 'nats'] as const

/** Options shared by every transport `createTransport` can make. */
export interface CreateTransportOptions {
  /** Largest frame / message accepted. Default 4 MiB (NATS: also capped by the server's max_payload). */
  maxFrameSize?: number
}

/**
 * A transport by name, as `MICRO_TRANSPORT` / `MICRO_TRANSPORT_ADDRESS` configure it:
 *
 * - `micro` (the default): the micro protocol and HTTP over TCP. `address` is not used (a
 *   service's listen address is `MICRO_SERVER_ADDRESS`).
 * - `nats`: NATS request/reply; `address` is the NATS servers, comma-separated URLs
 *   (default `nats://127.0.0.1:4222`). Nodes listen on a subject, their registry address.
 *
 * Throws a TypeError naming the valid choices for any other name.
 */
export function createTransport(
  name = 'micro',
  address?: string,
  options: CreateTransportOptions = {},
): Transport {
  const chosen = name.trim().toLowerCase() || 'micro'
  switch (chosen) {
    case 'micro':
      return new MicroTransport(
        options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize },
      )
    case 'nats':
      return new NatsTransport({
        ...(address ? { address } : {}),
        ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
      })
    default:
      throw new TypeError(`unknown transport "${name}": choose one of ${TRANSPORT_NAMES.join(', ')}`)
  }
}

/** The transport `MICRO_TRANSPORT` and `MICRO_TRANSPORT_ADDRESS` name (micro when unset). */
export function transportFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: CreateTransportOptions = {},
): Transport {
  return createTransport(env.MICRO_TRANSPORT || undefined, env.MICRO_TRANSPORT_ADDRESS || undefined, options)
}
