import { createSocket } from 'node:dgram'
import { createRequire } from 'node:module'
import type { Answer, Packet } from 'dns-packet'
import type makeMdns from 'multicast-dns'

// Loaded as CommonJS (what the package is): through the ESM loader it costs twice as much
// start-up time, and a service's time to serving matters.
const createMdns = createRequire(import.meta.url)('multicast-dns') as typeof makeMdns

/** Where the multicast socket lives. */
export interface MdnsSocketOptions {
  /** IPv4 address of the interface to join the group on and send from. Default `127.0.0.1`. */
  interface?: string
  /** UDP port. Default 5353. */
  port?: number
  /** Multicast group. Default `224.0.0.251`. */
  ip?: string
}

/** Handlers for what arrives on the group. */
export interface MdnsHandlers {
  query(packet: Packet): void
  response(packet: Packet): void
}

/**
 * One multicast DNS socket, joined to the group on one interface only. Binding to the group
 * address (not 0.0.0.0) means unicast sent to this host on other interfaces never arrives, and
 * setting the outgoing multicast interface explicitly means nothing is sent anywhere else
 * even if multicast-dns could not set it itself.
 */
export class MdnsSocket {
  readonly #mdns: makeMdns.MulticastDNS
  readonly #ready: Promise<void>
  #failure: Error | undefined
  #rejectReady: ((error: Error) => void) | undefined

  constructor(options: MdnsSocketOptions, handlers: MdnsHandlers) {
    const iface = options.interface ?? '127.0.0.1'
    const ip = options.ip ?? '224.0.0.251'
    // We create the socket so we can pin the outgoing interface once it is bound.
    const socket = createSocket({ type: 'udp4', reuseAddr: true })
    this.#mdns = createMdns({
      socket,
      interface: iface,
      ip,
      port: options.port ?? 5353,
      // Windows cannot bind a multicast address; elsewhere it keeps other traffic out.
      bind: process.platform === 'win32' ? iface : ip,
      loopback: true,
      multicast: true,
    })
    const warnings: Error[] = []
    const onWarning = (error: Error) => warnings.push(error)
    this.#mdns.on('warning', onWarning)
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#rejectReady = reject
      this.#mdns.once('error', reject)
      this.#mdns.once('ready', () => {
        this.#mdns.off('warning', onWarning)
        // Without membership nothing would ever arrive; fail loudly instead of finding nothing.
        const membership = warnings.find((w) => (w as NodeJS.ErrnoException).syscall === 'addMembership')
        if (membership) return reject(new Error(`mdns: cannot join ${ip} on ${iface}: ${membership.message}`))
        try {
          socket.setMulticastInterface(iface)
        } catch (error) {
          return reject(error)
        }
        resolve()
      })
    })
    // Surfaced by the operations that await readiness; never an unhandled rejection.
    this.#ready.catch((error: Error) => {
      this.#failure = error
    })
    this.#mdns.on('error', (error: Error) => {
      this.#failure ??= error
    })
    // Garbage packets and transient socket errors arrive as warnings: nothing to do about them.
    this.#mdns.on('warning', () => {})
    this.#mdns.on('query', (packet: Packet) => handlers.query(packet))
    this.#mdns.on('response', (packet: Packet) => handlers.response(packet))
  }

  /** Resolves once bound and joined; rejects when the socket cannot be used. */
  ready(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    return this.#ready
  }

  /** Multicast a response packet. */
  respond(answers: Answer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#mdns.respond({ answers }, (error) => (error ? reject(error) : resolve()))
    })
  }

  /** Multicast a PTR query for `name`. */
  query(name: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#mdns.query({ questions: [{ name, type: 'PTR' }] }, (error) => (error ? reject(error) : resolve()))
    })
  }

  /** Close the socket; its membership and multicast-dns's interval go with it. */
  close(): Promise<void> {
    // Anyone still waiting for the socket must not wait forever (a no-op once it is ready).
    this.#rejectReady?.(new Error('mdns: socket closed'))
    return new Promise((resolve) => this.#mdns.destroy(() => resolve()))
  }
}
