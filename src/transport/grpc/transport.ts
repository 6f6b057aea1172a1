import type { SecureDial } from '../tls/client.js'
import type { TlsCredentials } from '../tls/credentials.js'
import { SecureViews } from '../tls/secure-views.js'
import type {
  Dispatcher,
  Listener,
  ListenOptions,
  OutboundCall,
  OutboundStream,
  Reply,
  StreamChannel,
  Transport,
} from '../transport.js'
import { unsentError } from '../transport-errors.js'
import { GrpcClientChannel, PendingGrpcCall } from './client-calls.js'
import { DEFAULT_GRPC_LIMITS, GrpcListener, type GrpcServerLimits } from './server.js'
import { GrpcSessions, loadHttp2 } from './sessions.js'

/** Options of {@link GrpcTransport}: its limits, and TLS. */
export interface GrpcTransportOptions extends Partial<GrpcServerLimits> {
  /** Close client connections unused this long, ms. Default 60 000. */
  idleTtl?: number
  /** Call over mutual TLS with these credentials, to servers proving this identity (see `secure`). */
  secure?: SecureDial
}

/**
 * gRPC over HTTP/2 (h2c) as a micro transport. A service using it serves every endpoint on
 * a gRPC port (`Greeter.SayHello` at `/<package>.Greeter/SayHello`), callable by any gRPC
 * client with protobuf (`application/grpc`) and by micro clients with the call's codec as
 * the content subtype (`application/grpc+json` by default). Its nodes advertise transport
 * and protocol `grpc`; a micro client reaches them with this transport whatever its own is.
 * node:http2 is loaded on the first listen or call.
 */
export class GrpcTransport implements Transport {
  readonly name = 'grpc'
  readonly #options: GrpcTransportOptions
  readonly #sessions: GrpcSessions
  readonly #maxMessageSize: number
  readonly #stopRetiring: (() => void) | undefined
  readonly #secureViews = new SecureViews((secure) => new GrpcTransport({ ...this.#options, secure }))

  constructor(options: GrpcTransportOptions = {}) {
    this.#options = options
    this.#maxMessageSize = options.maxMessageSize ?? DEFAULT_GRPC_LIMITS.maxMessageSize
    this.#sessions = new GrpcSessions({ idleTtl: options.idleTtl ?? 60_000, secure: options.secure })
    // A renewed certificate: connections made with the old one give way to new ones.
    this.#stopRetiring = options.secure?.credentials.onUpdate(() => this.#sessions.retire())
  }

  /** Serve gRPC on `address`; with `options.tls`, over TLS only (h2 by ALPN), client certificates as it says. */
  listen(address: string, dispatcher: Dispatcher, options: ListenOptions = {}): Promise<Listener> {
    const { idleTtl: _, secure: __, ...limits } = this.#options
    return GrpcListener.listen(
      address,
      dispatcher,
      {
        ...limits,
        maxMessageSize: this.#options.maxMessageSize ?? options.maxFrameSize ?? this.#maxMessageSize,
        handshakeTimeout: options.limits?.headerTimeout,
      },
      options.tls,
    )
  }

  /** This transport over mutual TLS to servers whose certificate names `expected`; one per credentials and identity. */
  secure(credentials: TlsCredentials, expected: string): GrpcTransport {
    return this.#secureViews.get(credentials, expected)
  }

  async call(address: string, call: OutboundCall): Promise<Reply> {
    const h2 = await loadHttp2()
    const session = this.#sessions.get(h2, address)
    return new Promise<Reply>((resolve, reject) => {
      try {
        new PendingGrpcCall(session, call, this.#maxMessageSize, resolve, reject)
      } catch (error) {
        // The connection went away between picking it and opening the stream.
        session.gone = true
        reject(unsentError(`cannot call ${address}: ${(error as Error).message}`, error))
      }
    })
  }

  async stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    const h2 = await loadHttp2()
    const session = this.#sessions.get(h2, address)
    try {
      return new GrpcClientChannel(session, call, this.#maxMessageSize)
    } catch (error) {
      session.gone = true
      throw unsentError(`cannot open a stream to ${address}: ${(error as Error).message}`, error)
    }
  }

  async close(): Promise<void> {
    this.#stopRetiring?.()
    this.#sessions.close()
    await this.#secureViews.close()
  }
}
