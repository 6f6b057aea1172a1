import { TRANSPORT_ENGINES } from './engine-names.js'
import { LazyGrpcTransport } from './grpc/lazy.js'
import { MicroTransport } from './micro-transport.js'
import { NatsTransport } from './nats-transport.js'
import type { Transport } from './transport.js'

export { TRANSPORT_ENGINES, TRANSPORT_NAMES } from './engine-names.js'

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
 * - `grpc`: gRPC over HTTP/2 (h2c) on the service's address; any gRPC client can call it.
 *   Its code and node:http2 load on first use.
 *
 * Throws a TypeError naming the known engines for any other name.
 */
export function createTransport(
  name?: string,
  address?: string,
  options: CreateTransportOptions = {},
): Transport {
  switch (TRANSPORT_ENGINES.pick(name)) {
    case 'micro':
      return new MicroTransport(
        options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize },
      )
    case 'nats':
      return new NatsTransport({
        ...(address ? { address } : {}),
        ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
      })
    case 'grpc':
      return new LazyGrpcTransport(
        options.maxFrameSize === undefined ? {} : { maxMessageSize: options.maxFrameSize },
      )
  }
}

/**
 * The transport `MICRO_TRANSPORT` and `MICRO_TRANSPORT_ADDRESS` name (micro when unset). An
 * unknown name is a TypeError such as `MICRO_TRANSPORT=grpc: unknown transport engine; known: ...`.
 */
export function transportFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: CreateTransportOptions = {},
): Transport {
  const name = TRANSPORT_ENGINES.fromEnv(env, 'MICRO_TRANSPORT')
  return createTransport(name, env.MICRO_TRANSPORT_ADDRESS || undefined, options)
}
