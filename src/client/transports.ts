import type { NodeRecord } from '../registry/registry.js'
import { createTransport } from '../transport/from-env.js'
import type { Transport } from '../transport/transport.js'

/**
 * The transports a client reaches nodes with. A node says which one it speaks in its
 * registry metadata (`transport: nats`); a missing name means the client's own transport.
 * Others are made on first use, from MICRO_TRANSPORT_ADDRESS where they need a server.
 */
export class TransportSet {
  readonly #primary: Transport
  readonly #byName = new Map<string, Transport>()
  readonly #address: string | undefined

  constructor(
    primary: Transport,
    address: string | undefined = process.env.MICRO_TRANSPORT_ADDRESS || undefined,
  ) {
    this.#primary = primary
    this.#byName.set(primary.name, primary)
    this.#address = address
  }

  /** The client's own transport (used for calls to explicit addresses). */
  get primary(): Transport {
    return this.#primary
  }

  /** The transport to reach `node` with. */
  for(node: NodeRecord): Transport {
    const name = node.metadata.transport
    if (name === undefined || name === this.#primary.name) return this.#primary
    let transport = this.#byName.get(name)
    if (transport === undefined) {
      transport = createTransport(name, this.#address)
      this.#byName.set(name, transport)
    }
    return transport
  }

  /** Close every transport made here, and the primary one. */
  async close(): Promise<void> {
    await Promise.all([...this.#byName.values()].map((t) => t.close()))
  }
}
