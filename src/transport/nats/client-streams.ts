import { canceled, type MicroError } from '../../errors/errors.js'
import { StreamDeadline } from '../stream-deadline.js'
import type { OutboundStream, StreamChannel } from '../transport.js'
import { lostError, unsentError } from '../transport-errors.js'
import { MuxFlag, MuxFrame } from './mux-frame.js'
import { frameValue } from './mux-reader.js'
import { outbound } from './pending.js'
import type { Route } from './route.js'
import { NatsStream, type NatsStreamHost } from './stream.js'

/** Settings of the client's streams. */
export interface ClientStreamOptions {
  openTimeout: number
  streamWindow: number
  maxMessageSize: number
}

interface ClientStream {
  stream: NatsStream
  route: Route
  /** Set while the server has not accepted the stream yet. */
  opened: (() => void) | undefined
  cleanup: () => void
}

/**
 * The client's open streams. A stream is opened by a Request (flag Stream) in a request
 * batch to the node; the instance that takes it answers Open from its own subject, where
 * the stream's frames go from then on.
 */
export class ClientStreams implements NatsStreamHost {
  readonly #options: ClientStreamOptions
  readonly #maxPayload: () => number
  readonly #streams = new Map<number, ClientStream>()

  constructor(options: ClientStreamOptions, maxPayload: () => number) {
    this.#options = options
    this.#maxPayload = maxPayload
  }

  get maxPayload(): number {
    return this.#maxPayload()
  }

  get size(): number {
    return this.#streams.size
  }

  has(id: number): boolean {
    return this.#streams.has(id)
  }

  /** Open a stream; resolves once the server accepted it. Throws what encoding the request throws. */
  open(id: number, route: Route, call: OutboundStream): Promise<StreamChannel> {
    const window = this.#options.streamWindow
    const stream = new NatsStream(this, id, {}, undefined, {
      isServer: false,
      window,
      peerWindow: window,
      maxMessageSize: this.#options.maxMessageSize,
      lost: (detail) => lostError(`stream ${call.endpoint} on ${route.address}: ${detail}`),
    })
    stream.batch = route.requests.request(
      MuxFlag.Stream,
      id,
      call.endpoint,
      call.timeout,
      call.headers,
      undefined,
      window,
    )
    if (route.requests.failedSeq === stream.batch) {
      // Its batch was sent at once (early flush) and that failed: nothing reached a server.
      throw unsentError(
        `cannot send to ${route.address}: ${(route.requests.failure as Error)?.message ?? 'the send failed'}`,
        route.requests.failure,
      )
    }
    const entry: ClientStream = { stream, route, opened: undefined, cleanup: () => {} }
    this.#streams.set(id, entry)
    route.inFlight++
    this.#track(entry, call)
    return this.#whenOpen(entry, call.endpoint).then(() => stream)
  }

  /** A frame about stream `id`; false when there is no such stream. */
  receive(type: number, flags: number, id: number, body: Buffer, reply: string): boolean {
    const entry = this.#streams.get(id)
    if (entry === undefined) return false
    if (type === MuxFrame.Open) {
      const opened = entry.opened
      if (opened !== undefined && reply !== '') {
        entry.opened = undefined
        const peer = entry.route.peer(reply)
        entry.stream.opened(peer.outbox, peer.number, frameValue(body))
        entry.stream.lastHeard = Date.now()
        opened()
      }
      return true
    }
    entry.stream.receive(type, flags, body)
    return true
  }

  /** NATS had nobody for request batch `batch` of `route`: streams it was opening were not sent. */
  unsent(route: Route, batch: number): void {
    for (const entry of [...this.#streams.values()]) {
      if (entry.route === route && entry.opened !== undefined && entry.stream.batch === batch) {
        entry.stream.finish(unsentError(`no server listens on ${route.address}`))
      }
    }
  }

  /** NATS had nobody at instance `peer` of `route`: its streams are over. */
  peerGone(route: Route, peer: number): void {
    for (const entry of [...this.#streams.values()]) {
      if (entry.route === route && entry.stream.peer === peer) {
        entry.stream.finish(lostError('the server of this stream is gone'))
      }
    }
  }

  /** NatsStreamHost: to the instance serving the stream; a Cancel before Open goes to every instance. */
  send(stream: NatsStream, type: number, flags: number, body: Uint8Array | undefined): void {
    if (stream.out !== undefined) stream.out.frame(type, flags, stream.id, undefined, body)
    else if (type === MuxFrame.Cancel)
      this.#streams.get(stream.id)?.route.sendControl(MuxFrame.Cancel, stream.id)
  }

  sendValue(stream: NatsStream, type: number, value: number): void {
    stream.out?.value(type, stream.id, value)
  }

  release(stream: NatsStream): void {
    const entry = this.#streams.get(stream.id)
    if (entry === undefined || entry.stream !== stream) return
    this.#streams.delete(stream.id)
    entry.route.inFlight--
    entry.cleanup()
  }

  checkAlive(now: number, keepAlive: number, keepAliveTimeout: number): void {
    for (const entry of [...this.#streams.values()]) entry.stream.checkAlive(now, keepAlive, keepAliveTimeout)
  }

  /** Fail every stream; those whose request was never sent are unsent. */
  failAll(lost: MicroError, unsent: MicroError): void {
    for (const entry of [...this.#streams.values()]) {
      const sent = entry.route.sent(entry.stream.batch)
      entry.stream.finish(sent ? lost : unsent)
    }
  }

  /** The stream's deadline and abort signal. */
  #track(entry: ClientStream, call: OutboundStream): void {
    const stream = entry.stream
    const deadline =
      call.timeout === undefined ? undefined : new StreamDeadline(stream, call.endpoint, call.timeout)
    if (deadline) outbound.add(deadline)
    const signal = call.signal
    const onAbort = () => stream.fail(canceled('micro.client', `stream ${call.endpoint} was canceled`))
    signal?.addEventListener('abort', onAbort, { once: true })
    entry.cleanup = () => {
      if (deadline) outbound.remove(deadline)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Wait for the server's Open; the deadline, the abort signal and the open timeout apply. */
  #whenOpen(entry: ClientStream, endpoint: string): Promise<void> {
    const stream = entry.stream
    if (stream.over) return Promise.reject(stream.signal.reason)
    const wait = this.#options.openTimeout
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.fail(lostError(`${entry.route.address} did not accept stream ${endpoint} within ${wait} ms`))
      }, wait)
      const onAbort = () => {
        clearTimeout(timer)
        reject(stream.signal.reason)
      }
      stream.signal.addEventListener('abort', onAbort, { once: true })
      entry.opened = () => {
        clearTimeout(timer)
        stream.signal.removeEventListener('abort', onAbort)
        resolve()
      }
    })
  }
}
