import { ClientConnection, type ClientConnectionOptions } from './client-connection.js'

export interface PoolOptions extends ClientConnectionOptions {
  /** Connections kept per address. Calls are multiplexed, so one is usually plenty. */
  size: number
  /** Close a connection unused for this long, ms. */
  idleTtl: number
}

/**
 * Client connections by address. A call takes the least busy usable connection; a new
 * one is dialled only while the address has fewer than `size`.
 */
export class ConnectionPool {
  readonly #byAddress = new Map<string, ClientConnection[]>()
  readonly #options: PoolOptions
  #pruner: NodeJS.Timeout | undefined

  constructor(options: PoolOptions) {
    this.#options = options
  }

  get(address: string): ClientConnection {
    let list = this.#byAddress.get(address)
    if (!list) {
      list = []
      this.#byAddress.set(address, list)
    }
    let best: ClientConnection | undefined
    for (const connection of list) {
      if (!connection.usable) continue
      if (!best || connection.inFlight < best.inFlight) best = connection
    }
    if (best && (best.inFlight === 0 || list.length >= this.#options.size)) return best
    const connection = new ClientConnection(address, this.#options, (gone) => this.#remove(gone))
    list.push(connection)
    this.#startPruner()
    return connection
  }

  /** Retire every connection: new calls dial new ones, open ones close once idle. */
  retire(): void {
    for (const list of [...this.#byAddress.values()]) for (const connection of [...list]) connection.retire()
  }

  /** Close every connection. */
  close(): void {
    if (this.#pruner) clearInterval(this.#pruner)
    this.#pruner = undefined
    for (const list of this.#byAddress.values()) for (const connection of list) connection.close()
    this.#byAddress.clear()
  }

  #remove(connection: ClientConnection): void {
    const list = this.#byAddress.get(connection.address)
    if (!list) return
    const index = list.indexOf(connection)
    if (index !== -1) list.splice(index, 1)
    if (list.length === 0) this.#byAddress.delete(connection.address)
  }

  #startPruner(): void {
    if (this.#pruner) return
    const every = Math.max(1000, Math.floor(this.#options.idleTtl / 2))
    this.#pruner = setInterval(() => this.#prune(), every)
    this.#pruner.unref()
  }

  #prune(): void {
    const cutoff = Date.now() - this.#options.idleTtl
    for (const list of this.#byAddress.values()) {
      for (const connection of [...list]) {
        if (connection.inFlight === 0 && connection.lastUsed < cutoff) connection.close()
      }
    }
  }
}
