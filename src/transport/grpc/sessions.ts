import type { ClientHttp2Session } from 'node:http2'
import { connect as tcpConnect } from 'node:net'
import { parseAddress } from '../address.js'
import { dialTls, type SecureDial } from '../tls/client.js'
import { unsentError } from '../transport-errors.js'

type Http2 = typeof import('node:http2')

let http2: Http2 | undefined

/** node:http2, loaded on the first gRPC call of the process (services that never call gRPC never load it). */
export async function loadHttp2(): Promise<Http2> {
  http2 ??= await import('node:http2')
  return http2
}

/** One HTTP/2 connection to a gRPC server, shared by every call to its address. */
export class GrpcSession {
  readonly address: string
  readonly session: ClientHttp2Session
  /** Whether the connection was ever established (a call failing before that was never sent). */
  connected = false
  /** No new calls: the server sent GOAWAY, or the connection failed or closed. */
  gone = false
  inFlight = 0
  lastUsed = Date.now()

  constructor(address: string, session: ClientHttp2Session) {
    this.address = address
    this.session = session
  }

  /** A call starts: keep the process alive while calls are open. */
  begin(): void {
    if (this.inFlight++ === 0) this.session.ref()
  }

  /** A call ended. */
  end(): void {
    this.lastUsed = Date.now()
    if (--this.inFlight === 0) this.session.unref()
  }
}

export interface GrpcSessionOptions {
  /** Close connections with no call for this long, ms. Default 60 000. */
  idleTtl: number
  /** Dial over mutual TLS (ALPN h2) and check the server's identity; absent: h2c. */
  secure?: SecureDial
}

/**
 * HTTP/2 connections by address: one per server, multiplexing every call (as gRPC
 * channels do). A connection the server sends GOAWAY on takes no new calls; the next call
 * dials a new one. Idle connections are closed after `idleTtl`.
 */
export class GrpcSessions {
  readonly #byAddress = new Map<string, GrpcSession>()
  readonly #options: GrpcSessionOptions
  #pruner: NodeJS.Timeout | undefined

  constructor(options: GrpcSessionOptions) {
    this.#options = options
  }

  /** The connection to `address`, dialled if there is none usable. Throws an unsent error when it cannot be made. */
  get(h2: Http2, address: string): GrpcSession {
    const existing = this.#byAddress.get(address)
    if (existing !== undefined && !existing.gone) return existing
    let session: ClientHttp2Session
    try {
      const { host, port } = parseAddress(address)
      const secure = this.#options.secure
      session = h2.connect(`${secure ? 'https' : 'http'}://${address}`, {
        settings: { enablePush: false },
        maxSessionMemory: 32,
        // Small request/reply frames must not wait for Nagle (dialTls sets no-delay too).
        createConnection: () =>
          secure ? dialTls(host, port, secure, ['h2']) : tcpConnect({ host, port, noDelay: true }),
      })
    } catch (error) {
      throw unsentError(`cannot connect to ${address}: ${(error as Error).message}`, error)
    }
    const entry = new GrpcSession(address, session)
    session.unref()
    const forget = () => {
      entry.gone = true
      if (this.#byAddress.get(address) === entry) this.#byAddress.delete(address)
    }
    session.once('connect', () => {
      entry.connected = true
    })
    session.on('error', forget)
    session.once('close', forget)
    session.once('goaway', forget)
    this.#byAddress.set(address, entry)
    this.#startPruner()
    return entry
  }

  /**
   * New calls dial new connections (a renewed certificate); the current ones close once
   * their calls end.
   */
  retire(): void {
    for (const entry of this.#byAddress.values()) {
      entry.gone = true
      entry.session.close()
    }
    this.#byAddress.clear()
  }

  /** Close every connection (calls in flight fail as lost). */
  close(): void {
    if (this.#pruner) clearInterval(this.#pruner)
    this.#pruner = undefined
    for (const entry of this.#byAddress.values()) {
      entry.gone = true
      entry.session.destroy()
    }
    this.#byAddress.clear()
  }

  #startPruner(): void {
    if (this.#pruner) return
    this.#pruner = setInterval(() => this.#prune(), Math.max(1000, this.#options.idleTtl / 2))
    this.#pruner.unref()
  }

  #prune(): void {
    const cutoff = Date.now() - this.#options.idleTtl
    for (const entry of [...this.#byAddress.values()]) {
      if (entry.inFlight === 0 && entry.lastUsed < cutoff) {
        entry.gone = true
        this.#byAddress.delete(entry.address)
        entry.session.close()
      }
    }
  }
}
