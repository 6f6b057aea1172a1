import { DEFAULT_MAX_FRAME_SIZE } from './frame.js'
import { TcpListener } from './listener.js'
import { ConnectionPool, type PoolOptions } from './pool.js'
import type { TlsCredentials } from './tls/credentials.js'
import { SecureViews } from './tls/secure-views.js'
import type {
  Dispatcher,
  Listener,
  ListenOptions,
  OutboundCall,
  OutboundStream,
  Reply,
  StreamChannel,
  Transport,
} from './transport.js'

/** Options of {@link MicroTransport}. */
export interface MicroTransportOptions {
  /** Largest frame (header block + body) sent or accepted. Default 4 MiB. */
  maxFrameSize?: number
  /** Connections per address. Default 1: calls are multiplexed. */
  poolSize?: number
  /** Close connections unused this long, ms. Default 60 000. */
  poolIdleTtl?: number
  /** Give up dialling after this long, ms. Default 5000. */
  dialTimeout?: number
  /** Ping a silent server after this long, ms. Default 30 000. */
  keepAlive?: number
  /** Drop a server that does not answer a ping within this, ms. Default 10 000. */
  keepAliveTimeout?: number
}

/**
 * The default transport: the micro protocol over TCP, with HTTP/1.1 on the same port.
 */
export class MicroTransport implements Transport {
  readonly name = 'micro'
  readonly #pool: ConnectionPool
  readonly #poolOptions: PoolOptions
  readonly #maxFrameSize: number
  /** TLS views, one pool each, by credentials and the identity they verify. */
  readonly #secureViews = new SecureViews((secure) => {
    const pool = new ConnectionPool({ ...this.#poolOptions, secure })
    // A renewed certificate: connections made with the old one give way to new ones.
    secure.credentials.onUpdate(() => pool.retire())
    return new SecureMicroTransport(this, pool)
  })

  constructor(options: MicroTransportOptions = {}) {
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE
    this.#poolOptions = {
      size: options.poolSize ?? 1,
      idleTtl: options.poolIdleTtl ?? 60_000,
      maxFrameSize: this.#maxFrameSize,
      dialTimeout: options.dialTimeout ?? 5000,
      keepAlive: options.keepAlive ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeout ?? 10_000,
    }
    this.#pool = new ConnectionPool(this.#poolOptions)
  }

  /**
   * This transport over TLS to one service: connections present `credentials`' certificate
   * (if any), check the server against its CA, and reach only a server whose certificate
   * names `expected` (`micro://<namespace>/<service>`). Its connections are pooled apart
   * from plain ones and from other identities'; `close()` closes them too.
   */
  secure(credentials: TlsCredentials, expected: string): Transport {
    return this.#secureViews.get(credentials, expected)
  }

  /** Listen on `address` (`host:port`, port 0 picks one): the micro protocol and HTTP on one port. */
  listen(address: string, dispatcher: Dispatcher, options: ListenOptions = {}): Promise<Listener> {
    return TcpListener.listen(address, dispatcher, {
      ...options,
      maxFrameSize: options.maxFrameSize ?? this.#maxFrameSize,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    })
  }

  call(address: string, call: OutboundCall): Promise<Reply> {
    return this.#pool.get(address).call(call)
  }

  async stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    const connection = this.#pool.get(address)
    await connection.connected
    return connection.stream(call)
  }

  async close(): Promise<void> {
    this.#pool.close()
    await this.#secureViews.close()
  }
}

/** The micro transport to one service over TLS (see `MicroTransport.secure`). */
class SecureMicroTransport implements Transport {
  readonly name = 'micro'
  readonly #base: MicroTransport
  readonly #pool: ConnectionPool

  constructor(base: MicroTransport, pool: ConnectionPool) {
    this.#base = base
    this.#pool = pool
  }

  listen(address: string, dispatcher: Dispatcher, options?: ListenOptions): Promise<Listener> {
    return this.#base.listen(address, dispatcher, options)
  }

  call(address: string, call: OutboundCall): Promise<Reply> {
    return this.#pool.get(address).call(call)
  }

  async stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    const connection = this.#pool.get(address)
    await connection.connected
    return connection.stream(call)
  }

  async close(): Promise<void> {
    this.#pool.close()
  }
}
