import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import { canceled, type MicroError } from '../../errors/errors.js'
import type { OutboundStream, StreamChannel } from '../transport.js'
import { lostError, unsentError } from '../transport-errors.js'
import { decodeFrame, encodeFrame, NatsFrame } from './frames.js'
import { isNoResponders } from './headers.js'
import { outbound, StreamDeadline } from './pending.js'
import { NatsStream, type NatsStreamHost } from './stream.js'
import { publishFailure } from './subject.js'

const EMPTY = new Uint8Array(0)

/** Settings of the client's streams. */
export interface ClientStreamOptions {
  openTimeout: number
  streamWindow: number
  maxMessageSize: number
}

/**
 * The client's open streams. A stream's subject is `<client inbox>.<id>`; it is opened by a
 * request to the node subject and usable once the server's Open frame names the server's
 * stream subject.
 */
export class ClientStreams implements NatsStreamHost {
  readonly #nc: NatsConnection
  readonly #inbox: string
  readonly #options: ClientStreamOptions
  readonly #streams = new Map<number, NatsStream>()
  /** Streams waiting for the server's Open: what to call when it comes. */
  readonly #opening = new Map<number, { address: string; opened: () => void }>()
  readonly #cleanup = new Map<number, () => void>()

  constructor(nc: NatsConnection, inbox: string, options: ClientStreamOptions) {
    this.#nc = nc
    this.#inbox = inbox
    this.#options = options
  }

  get maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1024 * 1024
  }

  get size(): number {
    return this.#streams.size
  }

  has(id: number): boolean {
    return this.#streams.has(id)
  }

  /** Open a stream with the given request headers; resolves once the server accepted it. */
  async open(id: number, address: string, call: OutboundStream, headers: MsgHdrs): Promise<StreamChannel> {
    const window = this.#options.streamWindow
    const stream = new NatsStream(
      this,
      id,
      `${this.#inbox}.${id}`,
      undefined,
      {},
      {
        isServer: false,
        window,
        peerWindow: window,
        maxMessageSize: this.#options.maxMessageSize,
        lost: (detail) => lostError(`stream ${call.endpoint} on ${address}: ${detail}`),
      },
    )
    this.#streams.set(id, stream)
    this.#track(stream, call)
    try {
      this.#nc.publish(address, EMPTY, { reply: stream.subject, headers })
    } catch (error) {
      stream.finish(publishFailure(address, error))
    }
    await this.#whenOpen(stream, address, call.endpoint)
    return stream
  }

  /** A message on stream `id`'s subject; false when there is no such stream. */
  receive(id: number, msg: Msg): boolean {
    const stream = this.#streams.get(id)
    if (stream === undefined) return false
    if (isNoResponders(msg.headers) && msg.data.length === 0) {
      const opening = this.#opening.get(id)
      stream.finish(
        opening
          ? unsentError(`no server listens on ${opening.address}`)
          : lostError('the server of this stream is gone'),
      )
      return true
    }
    const frame = decodeFrame(msg.data)
    if (frame === undefined) return true
    if (frame.type !== NatsFrame.Open) {
      stream.receive(frame)
      return true
    }
    const opening = this.#opening.get(id)
    if (opening !== undefined && msg.reply) {
      this.#opening.delete(id)
      stream.opened(msg.reply, frame.value)
      stream.lastHeard = Date.now()
      opening.opened()
    }
    return true
  }

  /** A frame for a stream that is over: tell its server to stop. */
  stray(msg: Msg): void {
    if (!msg.reply || isNoResponders(msg.headers)) return
    const frame = decodeFrame(msg.data)
    if (frame === undefined) return
    if (frame.type === NatsFrame.Cancel || frame.type === NatsFrame.Error || frame.type === NatsFrame.Pong)
      return
    this.#nc.publish(msg.reply, encodeFrame(NatsFrame.Cancel))
  }

  /** NatsStreamHost: frames to the server's stream subject, our stream subject as the reply. */
  publish(stream: NatsStream, frame: Uint8Array): void {
    if (stream.peer !== undefined) this.#nc.publish(stream.peer, frame, { reply: stream.subject })
  }

  release(stream: NatsStream): void {
    this.#streams.delete(stream.id)
    this.#opening.delete(stream.id)
    const cleanup = this.#cleanup.get(stream.id)
    if (cleanup) {
      this.#cleanup.delete(stream.id)
      cleanup()
    }
  }

  checkAlive(now: number, keepAlive: number, keepAliveTimeout: number): void {
    for (const stream of [...this.#streams.values()]) stream.checkAlive(now, keepAlive, keepAliveTimeout)
  }

  failAll(reason: MicroError): void {
    for (const stream of [...this.#streams.values()]) stream.finish(reason)
  }

  /** The stream's deadline and abort signal. */
  #track(stream: NatsStream, call: OutboundStream): void {
    const deadline =
      call.timeout === undefined
        ? undefined
        : new StreamDeadline(stream, call.endpoint, outbound.now() + call.timeout, call.timeout)
    if (deadline) outbound.add(deadline)
    const signal = call.signal
    const onAbort = () => stream.fail(canceled('micro.client', `stream ${call.endpoint} was canceled`))
    signal?.addEventListener('abort', onAbort, { once: true })
    this.#cleanup.set(stream.id, () => {
      if (deadline) outbound.remove(deadline)
      signal?.removeEventListener('abort', onAbort)
    })
  }

  /** Wait for the server's Open; the deadline, the abort signal and the open timeout apply. */
  #whenOpen(stream: NatsStream, address: string, endpoint: string): Promise<void> {
    if (stream.over) return Promise.reject(stream.signal.reason)
    const wait = this.#options.openTimeout
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.fail(lostError(`${address} did not accept stream ${endpoint} within ${wait} ms`))
      }, wait)
      const onAbort = () => {
        clearTimeout(timer)
        reject(stream.signal.reason)
      }
      stream.signal.addEventListener('abort', onAbort, { once: true })
      this.#opening.set(stream.id, {
        address,
        opened: () => {
          clearTimeout(timer)
          stream.signal.removeEventListener('abort', onAbort)
          resolve()
        },
      })
    })
  }
}
