import { serviceUnavailable } from '../errors/errors.js'
import type { NodeRecord } from '../registry/registry.js'
import { createTransport } from '../transport/from-env.js'
import { MicroTransport } from '../transport/micro-transport.js'
import type { TlsCredentials } from '../transport/tls/credentials.js'
import { expectedIdentity } from '../transport/tls/identity.js'
import type { Transport } from '../transport/transport.js'

/**
 * How a client uses TLS, filled in when its service starts (the certificate comes then).
 * `required`: every micro-protocol call goes over TLS (a service with TLS on never falls
 * back to plain TCP: a node registered without TLS could be anyone). Otherwise only nodes
 * that say `tls: on` in their registry metadata are called over TLS.
 */
export interface ClientTls {
  credentials: TlsCredentials
  required: boolean
}

/** Where a client finds its TLS settings: set once they are known. */
export interface ClientTlsSlot {
  current: ClientTls | undefined
}

/**
 * The transports a client reaches nodes with. A node says which one it speaks in its
 * registry metadata (`transport: nats`); a missing name means the client's own transport.
 * Others are made on first use, from MICRO_TRANSPORT_ADDRESS where they need a server.
 * Micro-protocol and gRPC nodes are dialled over TLS when the client's TLS says so or the
 * node does (`tls: on`), and must then prove the identity of the service called.
 */
export class TransportSet {
  readonly #primary: Transport
  readonly #byName = new Map<string, Transport>()
  readonly #address: string | undefined
  readonly #tls: ClientTlsSlot | undefined
  /** The micro transport TLS connections go through when the primary transport is another one. */
  #micro: MicroTransport | undefined

  constructor(
    primary: Transport,
    address: string | undefined = process.env.MICRO_TRANSPORT_ADDRESS || undefined,
    tls?: ClientTlsSlot,
  ) {
    this.#primary = primary
    this.#byName.set(primary.name, primary)
    this.#address = address
    this.#tls = tls
  }

  /** The client's own transport (used for calls to explicit addresses). */
  get primary(): Transport {
    return this.#primary
  }

  /** The transport to reach `node` of `service` (found in `namespace`) with. */
  for(node: NodeRecord, service?: string, namespace?: string): Transport {
    const tls = this.#tls?.current
    const name = node.metadata.transport
    if (tls === undefined && node.metadata.tls === undefined) {
      if (name === undefined || name === this.#primary.name) return this.#primary
      return this.#other(name)
    }
    const plain = name === undefined || name === 'micro' ? this.#microTransport() : this.#other(name)
    // NATS brings its own TLS (the connection to the server), so it has no secure view.
    if (plain.secure === undefined) return plain
    if (tls === undefined) {
      throw serviceUnavailable(
        'micro.client',
        `service ${service ?? node.id} serves over TLS: give this process the CA that issued its certificate (MICRO_TLS_CA) or run it with MICRO_TLS=on`,
      )
    }
    if (!tls.required && node.metadata.tls === undefined) return plain
    return plain.secure(tls.credentials, expectedIdentity(namespace ?? 'micro', service ?? ''))
  }

  /** Close every transport made here, and the primary one. */
  async close(): Promise<void> {
    await Promise.all([...this.#byName.values()].map((t) => t.close()))
  }

  #other(name: string): Transport {
    let transport = this.#byName.get(name)
    if (transport === undefined) {
      transport = createTransport(name, this.#address)
      this.#byName.set(name, transport)
    }
    return transport
  }

  #microTransport(): MicroTransport {
    if (this.#primary instanceof MicroTransport) return this.#primary
    this.#micro ??= this.#other('micro') as MicroTransport
    return this.#micro
  }
}
