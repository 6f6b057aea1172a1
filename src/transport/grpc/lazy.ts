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
import type { GrpcTransportOptions } from './transport.js'

/**
 * The gRPC transport as `createTransport('grpc')` makes it: its code (and node:http2) is
 * loaded on the first listen or call, so a process that only names it, or never uses it,
 * pays nothing at start. Once loaded, calls go straight to it.
 */
export class LazyGrpcTransport implements Transport {
  readonly name = 'grpc'
  readonly #options: GrpcTransportOptions
  #impl: Transport | undefined
  #loading: Promise<Transport> | undefined
  readonly #secureViews = new SecureViews((secure) => new LazyGrpcTransport({ ...this.#options, secure }))

  constructor(options: GrpcTransportOptions = {}) {
    this.#options = options
  }

  /** This transport over mutual TLS to servers whose certificate names `expected` (loaded on first use too). */
  secure(credentials: TlsCredentials, expected: string): Transport {
    return this.#secureViews.get(credentials, expected)
  }

  listen(address: string, dispatcher: Dispatcher, options?: ListenOptions): Promise<Listener> {
    return this.#load().then((t) => t.listen(address, dispatcher, options))
  }

  call(address: string, call: OutboundCall): Promise<Reply> {
    const impl = this.#impl
    return impl ? impl.call(address, call) : this.#load().then((t) => t.call(address, call))
  }

  stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    return this.#load().then((t) => t.stream(address, call))
  }

  async close(): Promise<void> {
    await Promise.all([this.#impl?.close(), this.#secureViews.close()])
  }

  #load(): Promise<Transport> {
    if (this.#impl) return Promise.resolve(this.#impl)
    this.#loading ??= import('./transport.js').then(({ GrpcTransport }) => {
      this.#impl = new GrpcTransport(this.#options)
      return this.#impl
    })
    return this.#loading
  }
}
