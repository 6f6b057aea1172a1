import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import type { Answer, Packet } from 'dns-packet'
// Bundled into dist (scripts/build.mjs): loading this CommonJS package through Node's
// loaders at start cost a service time and, with everything else, memory.
import * as dnsPacket from 'dns-packet'
import type { DropReason, InboundGuard } from './mdns-guard.js'

/** Where the multicast socket lives. */
export interface MdnsSocketOptions {
  /** IPv4 address of the interface to join the group on and send from. Default `127.0.0.1`. */
  interface?: string
  /** UDP port. Default 5353. */
  port?: number
  /** Multicast group. Default `224.0.0.251`. */
  ip?: string
}

/** Handlers for what arrives on the group; `source` is the sender's `address:port`. */
export interface MdnsHandlers {
  query(packet: Packet, source: string): void
  response(packet: Packet, source: string): void
}

/** A DNS header is 12 bytes: id, flags, then the four record counts. */
const HEADER_BYTES = 12
/** Our queries ask one question; a few more allow for other queriers, never hundreds. */
export const MAX_QUESTIONS = 16
/** Our responses carry five records; more than this is not a packet we want to parse. */
export const MAX_RECORDS = 32

/**
 * One multicast DNS socket, joined to the group on one interface only. Binding to the group
 * address (not 0.0.0.0) means unicast sent to this host on other interfaces never arrives, and
 * setting the outgoing multicast interface explicitly means nothing is sent anywhere else.
 *
 * Inbound traffic passes the guard before any parsing: each datagram is charged its size to
 * its source's budget, a header announcing more records than ours ever carry is dropped
 * unread, and responses not sent from the group port are ignored (RFC 6762 §6).
 */
export class MdnsSocket {
  readonly #socket: Socket
  readonly #ip: string
  readonly #port: number
  readonly #iface: string
  readonly #guard: InboundGuard
  readonly #handlers: MdnsHandlers
  readonly #ready: Promise<void>
  #failure: Error | undefined
  #rejectReady: ((error: Error) => void) | undefined
  #closed: Promise<void> | undefined

  constructor(options: MdnsSocketOptions, guard: InboundGuard, handlers: MdnsHandlers) {
    this.#iface = options.interface ?? '127.0.0.1'
    this.#ip = options.ip ?? '224.0.0.251'
    this.#port = options.port ?? 5353
    this.#guard = guard
    this.#handlers = handlers
    this.#socket = createSocket({ type: 'udp4', reuseAddr: true })
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#rejectReady = reject
      this.#socket.once('error', reject)
      // Windows cannot bind a multicast address; elsewhere it keeps other traffic out.
      const bindTo = process.platform === 'win32' ? this.#iface : this.#ip
      this.#socket.bind(this.#port, bindTo, () => {
        this.#socket.off('error', reject)
        try {
          this.#join()
        } catch (error) {
          return reject(error)
        }
        resolve()
      })
    })
    // Surfaced by the operations that await readiness; never an unhandled rejection.
    this.#ready.catch((error: Error) => {
      this.#failure ??= error
    })
    // After binding, socket errors are per send (reported to the sender) or transient.
    this.#socket.on('error', () => {})
    this.#socket.on('message', (message: Buffer, remote: RemoteInfo) => this.#receive(message, remote))
  }

  /** Resolves once bound and joined; rejects when the socket cannot be used. */
  ready(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure)
    return this.#ready
  }

  /** Multicast a response packet. */
  respond(answers: Answer[]): Promise<void> {
    return this.#send({ type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER, answers })
  }

  /** Multicast a PTR query for `name`. */
  query(name: string): Promise<void> {
    return this.#send({ type: 'query', questions: [{ name, type: 'PTR' }] })
  }

  /** Leave the group and close the socket. */
  close(): Promise<void> {
    this.#closed ??= new Promise((resolve) => {
      // Anyone still waiting for the socket must not wait forever (a no-op once it is ready).
      this.#rejectReady?.(new Error('mdns: socket closed'))
      try {
        this.#socket.dropMembership(this.#ip, this.#iface)
      } catch {
        // Never joined, or already gone with the interface.
      }
      try {
        this.#socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
    return this.#closed
  }

  #join(): void {
    try {
      this.#socket.addMembership(this.#ip, this.#iface)
    } catch (error) {
      // Without membership nothing would ever arrive; fail loudly instead of finding nothing.
      throw new Error(`mdns: cannot join ${this.#ip} on ${this.#iface}: ${(error as Error).message}`)
    }
    this.#socket.setMulticastTTL(255)
    this.#socket.setMulticastLoopback(true)
    this.#socket.setMulticastInterface(this.#iface)
  }

  async #send(packet: Packet): Promise<void> {
    await this.ready()
    if (this.#closed) return
    const bytes = dnsPacket.encode(packet)
    await new Promise<void>((resolve, reject) => {
      this.#socket.send(bytes, this.#port, this.#ip, (error) => (error ? reject(error) : resolve()))
    })
  }

  #receive(message: Buffer, remote: RemoteInfo): void {
    const source = `${remote.address}:${remote.port}`
    const refusal = headerRefusal(message, remote.port === this.#port)
    if (refusal) {
      this.#guard.drop(source, refusal)
      return
    }
    if (!this.#guard.admit(source, message.length)) return
    let packet: Packet
    try {
      packet = dnsPacket.decode(message)
    } catch {
      this.#guard.drop(source, 'malformed')
      return
    }
    if (packet.type === 'response') this.#handlers.response(packet, source)
    else this.#handlers.query(packet, source)
  }
}

/**
 * Why a datagram is not worth parsing, judged from its 12-byte header alone: too short,
 * a response not sent from the group port, or more questions or records than we ever send.
 */
function headerRefusal(message: Buffer, fromGroupPort: boolean): DropReason | undefined {
  if (message.length < HEADER_BYTES) return 'malformed'
  const isResponse = (message[2] as number) >= 0x80 // the QR bit
  if (isResponse && !fromGroupPort) return 'wrong-port'
  const questions = message.readUInt16BE(4)
  const records = message.readUInt16BE(6) + message.readUInt16BE(8) + message.readUInt16BE(10)
  if (questions > MAX_QUESTIONS || records > MAX_RECORDS) return 'too-many-records'
  return undefined
}
