import type { Socket } from 'node:net'
import { canceled } from '../errors/errors.js'
import { type ConnectionBounds, Phase, Stall, type Swept } from './sweeper.js'
import type { InboundCall } from './transport.js'

const TIMEOUT_BODY = 'the request was not completed in time'
const TIMEOUT_REPLY =
  'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\n' +
  `Content-Length: ${TIMEOUT_BODY.length}\r\n\r\n${TIMEOUT_BODY}`
/** How long a closing connection may take to take our last bytes, ms. */
const CLOSE_GRACE_MS = 500

const peers = new WeakMap<Socket, HttpPeer>()

/**
 * What the listener tracks of one HTTP connection. Node's own request timeouts and idle
 * tracking run only for a server that listens itself, and the service port hands sockets
 * to an HTTP server that does not; so heads, bodies, idle time, calls in flight and the
 * bytes their bodies hold are counted here, checked by the listener's sweeper.
 *
 * A request is `started` at its head, `dispatched` once its body is read, and `ended`
 * when its response closes. Between requests on a kept-alive connection the next head is
 * not visible until complete: a slow head there is bounded by the idle timeout.
 */
export class HttpPeer implements Swept {
  readonly socket: Socket
  readonly bounds: ConnectionBounds
  /** Calls dispatched and not yet answered. */
  inFlight = 0
  /** Request bodies held by the calls in flight, bytes. */
  buffered = 0
  /** Requests whose body is still being read (or refused and not yet answered). */
  #reading = 0
  /** Requests let in under the call cap whose body is still being read. */
  #admitted = 0
  /** Calls dispatched and not yet answered (pipelined responses wait their turn). */
  readonly #calls = new Set<InboundCall>()
  #started = 0
  #progress = 0
  #waitingRoom = 0
  #roomWaiters: (() => void)[] = []
  #draining = false
  #closing = false
  readonly #stall: Stall

  constructor(socket: Socket, bounds: ConnectionBounds, stall: Stall) {
    this.socket = socket
    this.bounds = bounds
    this.#stall = stall
    peers.set(socket, this)
  }

  /** The peer of a socket the listener handed to the HTTP server. */
  static of(socket: Socket): HttpPeer | undefined {
    return peers.get(socket)
  }

  /** A request head arrived. */
  started(): void {
    this.#reading++
    this.#started++
    this.#progress++
  }

  /**
   * Whether one more call fits under the cap (calls in flight plus those being read);
   * when it does, it counts from now on.
   */
  admit(): boolean {
    if (this.inFlight + this.#admitted >= this.bounds.maxCalls) return false
    this.#admitted++
    return true
  }

  /** A request's body will hold `bytes` more (its declared length, then what it really took). */
  hold(bytes: number): void {
    this.buffered += bytes
  }

  /** Its body is in and the (admitted) call goes to the server. */
  dispatched(call: InboundCall): void {
    this.#calls.add(call)
    this.#reading--
    this.#admitted--
    this.inFlight++
    this.#progress++
  }

  /**
   * Its response is over (sent, failed or abandoned): `call` if it was dispatched,
   * `held` the bytes it was holding, `admitted` whether it had been let in.
   */
  ended(call: InboundCall | undefined, held: number, admitted: boolean): void {
    this.#progress++
    if (call === undefined) {
      this.#reading--
      if (admitted) this.#admitted--
    } else {
      this.#calls.delete(call)
      this.inFlight--
    }
    if (held > 0) {
      this.buffered -= held
      if (this.buffered < this.bounds.maxBytes) this.#wakeRoomWaiters()
    }
    if (this.#draining && this.inFlight === 0) this.#close()
  }

  /**
   * Undefined while under the byte budget; otherwise resolves once calls in flight have
   * released enough. Not reading meanwhile makes Node stop reading the socket.
   */
  room(): Promise<void> | undefined {
    if (this.buffered < this.bounds.maxBytes) return undefined
    this.#waitingRoom++
    return new Promise<void>((resolve) => {
      this.#roomWaiters.push(() => {
        this.#waitingRoom--
        resolve()
      })
    })
  }

  /**
   * The connection closed: cancel the calls still in flight. A response queued behind
   * another (pipelining) never hears of the close itself.
   */
  lost(): void {
    this.#wakeRoomWaiters()
    if (this.#calls.size === 0) return
    const reason = canceled('micro.server', 'the HTTP caller went away')
    const calls = [...this.#calls]
    this.#calls.clear()
    for (const call of calls) call.onCancel?.(reason)
  }

  /** The listener is stopping: close now unless a call is in flight, else after the last one. */
  drain(): void {
    this.#draining = true
    if (this.inFlight === 0) this.socket.destroy()
  }

  sweep(): void {
    if (this.#closing || this.socket.destroyed) return
    let phase: Phase = Phase.None
    if (this.inFlight === 0 && this.#waitingRoom === 0) {
      if (this.#reading > 0) phase = Phase.Body
      else phase = this.#started === 0 ? Phase.Head : Phase.Idle
    }
    const sweeps = this.#stall.observe(phase, this.#progress)
    if (!Stall.expired(phase, sweeps, this.bounds)) return
    if (phase === Phase.Idle) {
      this.socket.destroy()
      return
    }
    // A head or body that stalls: say so, as Node's own request timeout does, and hang up.
    this.#closing = true
    if (this.socket.writable) this.socket.end(TIMEOUT_REPLY)
    const socket = this.socket
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
  }

  #wakeRoomWaiters(): void {
    if (this.#roomWaiters.length === 0) return
    const waiters = this.#roomWaiters
    this.#roomWaiters = []
    for (const wake of waiters) wake()
  }

  #close(): void {
    if (this.#closing) return
    this.#closing = true
    this.socket.destroySoon()
    const socket = this.socket
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
  }
}
