import type { Msg, NatsConnection } from '@nats-io/transport-node'
import { canceled, MicroError } from '../../errors/errors.js'
import type { Headers } from '../frame.js'
import type { CallInfo, Dispatcher } from '../transport.js'
import { decodeFrame, encodeFrame, NatsFrame, NatsFrameFlag } from './frames.js'
import { isNoResponders, WINDOW_HEADER } from './headers.js'
import { NatsStream, type NatsStreamHost } from './stream.js'
import { lastTokenId } from './subject.js'

const MAX_ID = 0x7fffffff

/** Settings of a listener's streams. */
export interface ServerStreamOptions {
  streamWindow: number
  maxFrameSize: number
  keepAlive: number
  keepAliveTimeout: number
}

/**
 * The streams one listener serves. Each has the subject `<listener inbox>.<id>`, named to
 * the client in the Open frame; the client's frames arrive there, ours go to the client's
 * stream subject. A caller that goes silent is pinged and dropped.
 */
export class ServerStreams implements NatsStreamHost {
  readonly #nc: NatsConnection
  readonly #inbox: string
  readonly #options: ServerStreamOptions
  readonly #onRelease: () => void
  readonly #streams = new Map<number, NatsStream>()
  #nextId = 1
  #timer: NodeJS.Timeout | undefined

  constructor(nc: NatsConnection, inbox: string, options: ServerStreamOptions, onRelease: () => void) {
    this.#nc = nc
    this.#inbox = inbox
    this.#options = options
    this.#onRelease = onRelease
  }

  get maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1024 * 1024
  }

  get size(): number {
    return this.#streams.size
  }

  /** Accept a stream request whose reply subject is the client's stream subject, and serve it. */
  open(reply: string, info: CallInfo, dispatcher: Dispatcher): void {
    const id = this.#allocateId()
    const window = Number(info.headers[WINDOW_HEADER])
    const streamWindow = this.#options.streamWindow
    const stream = new NatsStream(this, id, `${this.#inbox}.${id}`, reply, info.headers as Headers, {
      isServer: true,
      window: streamWindow,
      peerWindow: Number.isInteger(window) && window > 0 ? window : streamWindow,
      maxMessageSize: this.#options.maxFrameSize,
      lost: (detail) => canceled('micro.server', `the caller is gone: ${detail}`),
    })
    this.#streams.set(id, stream)
    this.#send(reply, encodeFrame(NatsFrame.Open, streamWindow), stream.subject)
    this.#startTimer()
    try {
      dispatcher.stream(info, stream)
    } catch (error) {
      stream.fail(MicroError.from(error, 'micro.server'))
    }
  }

  /** A message on the listener's stream inbox. */
  receive(msg: Msg): void {
    const stream = this.#streams.get(lastTokenId(msg.subject))
    if (isNoResponders(msg.headers) && msg.data.length === 0) {
      stream?.finish(canceled('micro.server', 'the caller is gone'))
      return
    }
    const frame = decodeFrame(msg.data)
    if (frame === undefined) return
    if (stream !== undefined) stream.receive(frame)
    else if (msg.reply && frame.type !== NatsFrame.Cancel && frame.type !== NatsFrame.Pong) {
      // A stream this listener no longer knows: tell the client to stop.
      this.#send(msg.reply, encodeFrame(NatsFrame.Cancel), undefined)
    }
  }

  /** NatsStreamHost: frames to the client's stream subject, ours as the reply. */
  publish(stream: NatsStream, frame: Uint8Array): void {
    if (stream.peer !== undefined) this.#nc.publish(stream.peer, frame, { reply: stream.subject })
  }

  release(stream: NatsStream): void {
    this.#streams.delete(stream.id)
    this.#onRelease()
  }

  /** End every stream here: the connection went away, so their callers may have lost frames. */
  finishAll(reason: MicroError): void {
    for (const stream of [...this.#streams.values()]) stream.finish(reason)
  }

  /** The listener closes: tell each caller (a 503 marked lost) and abort each handler. */
  abortAll(lost: MicroError, reason: MicroError): void {
    const body = Buffer.from(JSON.stringify(lost))
    for (const stream of [...this.#streams.values()]) {
      if (stream.peer !== undefined) {
        this.#send(stream.peer, encodeFrame(NatsFrame.Error, 0, body, NatsFrameFlag.Lost), undefined)
      }
      stream.finish(reason)
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #send(subject: string, frame: Uint8Array, reply: string | undefined): void {
    if (this.#nc.isClosed()) return
    try {
      this.#nc.publish(subject, frame, reply === undefined ? undefined : { reply })
    } catch {
      // the connection is closing: the caller sees its stream fail
    }
  }

  #allocateId(): number {
    let id = this.#nextId
    while (this.#streams.has(id)) id = id >= MAX_ID ? 1 : id + 1
    this.#nextId = id >= MAX_ID ? 1 : id + 1
    return id
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return
    const { keepAlive, keepAliveTimeout } = this.#options
    this.#timer = setInterval(
      () => {
        if (this.#streams.size === 0) {
          this.stop()
          return
        }
        const now = Date.now()
        for (const stream of [...this.#streams.values()]) stream.checkAlive(now, keepAlive, keepAliveTimeout)
      },
      Math.max(50, Math.min(keepAlive, keepAliveTimeout) / 2),
    )
    this.#timer.unref()
  }
}
