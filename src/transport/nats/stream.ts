import { canceled, MicroError, payloadTooLarge } from '../../errors/errors.js'
import { AsyncQueue } from '../../util/async-queue.js'
import type { Headers } from '../frame.js'
import type { StreamChannel } from '../transport.js'
import { MUX_HEADER_SIZE, MuxFlag, MuxFrame } from './mux-frame.js'
import { frameValue } from './mux-reader.js'
import type { Outbox } from './outbox.js'

/** What a stream needs from the end of the transport it lives on. */
export interface NatsStreamHost {
  /** Queue a frame of this stream for its peer (dropped when the peer is not known yet). */
  send(stream: NatsStream, type: number, flags: number, body: Uint8Array | undefined): void
  /** Queue a frame whose body is one u32. */
  sendValue(stream: NatsStream, type: number, value: number): void
  /** The stream is over; forget it. */
  release(stream: NatsStream): void
  /** Largest NATS message the server takes (its max_payload). */
  readonly maxPayload: number
}

/** How a stream is set up: which end it is and what its peer may send. */
export interface NatsStreamOptions {
  isServer: boolean
  /** Messages the peer may send ahead of our reads. */
  window: number
  /** Messages we may send ahead of the peer's reads (the client learns it from Open). */
  peerWindow: number
  /** Inbound messages larger than this fail the stream with a 413. */
  maxMessageSize: number
  /** The error to fail with when the peer is gone. */
  lost: (detail: string) => MicroError
}

interface PendingSend {
  body: Uint8Array
  resolve: () => void
  reject: (error: MicroError) => void
}

const RESOLVED = Promise.resolve()

/**
 * One bidirectional stream over the NATS transport, used by both ends. Flow control is a
 * window of messages per direction: a sender has at most `window` messages not yet read by
 * the peer's reader; the reader grants more (Credit, cumulative) each time it has read half
 * a window. Its frames travel in the batches of the host's outbox for the peer.
 */
export class NatsStream implements StreamChannel {
  /** The call id, chosen by the client; unique within the client's session. */
  readonly id: number
  readonly headers: Headers
  readonly messages: AsyncIterable<Uint8Array>
  /** Where this stream's frames go (client: the serving instance, known once Open came). */
  out: Outbox | undefined
  /** Client: the number of the request batch that opened it, and of the instance that took it. */
  batch = 0
  peer = -1
  /** When we last heard from the peer, and when we pinged it (0: no ping outstanding). */
  lastHeard = Date.now()
  pingSent = 0
  readonly #host: NatsStreamHost
  readonly #options: NatsStreamOptions
  readonly #queue: AsyncQueue<Uint8Array>
  readonly #controller = new AbortController()
  readonly #pending: PendingSend[] = []
  #peerWindow: number
  #sent = 0
  #peerConsumed = 0
  #received = 0
  #consumed = 0
  #credited = 0
  #sentEnd = false
  /** end() was called while sends were waiting for the window: End goes after them. */
  #endQueued = false
  #readerGone = false
  #over = false

  constructor(
    host: NatsStreamHost,
    id: number,
    headers: Headers,
    out: Outbox | undefined,
    options: NatsStreamOptions,
  ) {
    this.#host = host
    this.id = id
    this.headers = headers
    this.out = out
    this.#options = options
    this.#peerWindow = options.peerWindow
    this.#queue = new AsyncQueue<Uint8Array>({
      onReturn: () => {
        this.#readerGone = true
        // A client that stops reading abandons the call; a handler that stops reading just
        // ignores the rest, which is then credited as read so the client is never stuck.
        if (!options.isServer) this.fail(canceled('micro.client', 'stream closed by the caller'))
        else this.#credit(this.#received - this.#consumed)
      },
    })
    const queue = this.#queue
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next: () =>
        queue.next().then((result) => {
          if (!result.done) this.#credit(1)
          return result
        }),
      return: () => queue.return(),
      [Symbol.asyncIterator]: () => iterator,
    }
    this.messages = { [Symbol.asyncIterator]: () => iterator }
  }

  get signal(): AbortSignal {
    return this.#controller.signal
  }

  get over(): boolean {
    return this.#over
  }

  /** Client: the server accepted the stream, sending from `out`, and grants `window`. */
  opened(out: Outbox, peer: number, window: number): void {
    this.out = out
    this.peer = peer
    if (window > 0) this.#peerWindow = window
  }

  send(body: Uint8Array): Promise<void> {
    if (this.#over) return Promise.reject(this.#closedError())
    if (this.#sentEnd) return Promise.reject(new MicroError('micro.stream', 'send after end', 400))
    if (body.length + MUX_HEADER_SIZE > this.#host.maxPayload) {
      return Promise.reject(
        payloadTooLarge(
          'micro.stream',
          `message of ${body.length} bytes is over the NATS server's max_payload of ${this.#host.maxPayload}`,
        ),
      )
    }
    if (this.#pending.length === 0 && this.#sent - this.#peerConsumed < this.#peerWindow) {
      this.#sendData(body)
      return RESOLVED
    }
    return new Promise<void>((resolve, reject) => this.#pending.push({ body, resolve, reject }))
  }

  end(): void {
    if (this.#over || this.#sentEnd) return
    this.#sentEnd = true
    if (this.#pending.length > 0) this.#endQueued = true
    else this.#sendEnd()
  }

  fail(error: MicroError): void {
    if (this.#over) return
    if (this.#options.isServer) this.#send(MuxFrame.Error, 0, Buffer.from(JSON.stringify(error)))
    else this.#send(MuxFrame.Cancel, 0, undefined)
    this.finish(error)
  }

  /** A frame from the peer. */
  receive(type: number, flags: number, body: Buffer): void {
    this.lastHeard = Date.now()
    this.pingSent = 0
    if (this.#over) return
    switch (type) {
      case MuxFrame.Data:
        this.#receiveData(body)
        return
      case MuxFrame.End:
        this.#queue.end()
        if (!this.#options.isServer) this.finish(undefined)
        return
      case MuxFrame.Error: {
        const error = MicroError.parse(body.toString('utf8'), 'micro.server')
        this.finish((flags & MuxFlag.Lost) !== 0 ? this.#options.lost(error.detail) : error)
        return
      }
      case MuxFrame.Cancel:
        this.finish(
          this.#options.isServer
            ? canceled('micro.server', 'canceled by the caller')
            : this.#options.lost('the server no longer knows this stream'),
        )
        return
      case MuxFrame.Ping:
        this.#send(MuxFrame.Pong, 0, undefined)
        return
      case MuxFrame.Credit:
        this.#receiveCredit(frameValue(body))
        return
      default:
      // Pong, and types a newer peer may send: hearing from the peer is all that matters.
    }
  }

  /** Ping a silent peer; fail the stream when a ping goes unanswered. */
  checkAlive(now: number, keepAlive: number, keepAliveTimeout: number): void {
    if (this.#over || this.out === undefined) return
    if (this.pingSent > 0) {
      if (now - this.pingSent > keepAliveTimeout) {
        this.finish(this.#options.lost(`the peer did not answer a ping within ${keepAliveTimeout} ms`))
      }
    } else if (now - this.lastHeard >= keepAlive) {
      this.pingSent = now
      this.#send(MuxFrame.Ping, 0, undefined)
    }
  }

  /** End the stream here without telling the peer (it is gone, or told already). */
  finish(error: MicroError | undefined): void {
    if (this.#over) return
    this.#over = true
    if (error) {
      this.#queue.fail(error)
      this.#controller.abort(error)
    } else {
      this.#queue.end()
    }
    const pending = this.#pending.splice(0)
    if (pending.length > 0) {
      const reason =
        error ?? new MicroError('micro.stream', 'the stream ended before this message was sent', 499)
      for (const send of pending) send.reject(reason)
    }
    this.#host.release(this)
  }

  #receiveData(body: Uint8Array): void {
    this.#received++
    if (body.length > this.#options.maxMessageSize) {
      this.fail(
        payloadTooLarge('micro.stream', `stream message of ${body.length} bytes is over the size limit`),
      )
      return
    }
    if (this.#readerGone) {
      this.#credit(1)
      return
    }
    if (this.#received - this.#consumed > this.#options.window) {
      this.fail(new MicroError('micro.stream', 'the peer sent past its flow-control window', 400))
      return
    }
    this.#queue.push(body)
  }

  #receiveCredit(consumed: number): void {
    if (consumed <= this.#peerConsumed || consumed > this.#sent) return
    this.#peerConsumed = consumed
    while (this.#pending.length > 0 && this.#sent - this.#peerConsumed < this.#peerWindow) {
      const next = this.#pending.shift() as PendingSend
      this.#sendData(next.body)
      if (this.#over) {
        next.reject(this.#closedError())
        return
      }
      next.resolve()
    }
    if (this.#pending.length === 0 && this.#endQueued) {
      this.#endQueued = false
      this.#sendEnd()
    }
  }

  /** `count` more messages were read: grant the peer more once half a window is read. */
  #credit(count: number): void {
    this.#consumed += count
    if (this.#over || this.#consumed - this.#credited < Math.max(1, this.#options.window >> 1)) return
    this.#credited = this.#consumed
    try {
      this.#host.sendValue(this, MuxFrame.Credit, this.#consumed)
    } catch (error) {
      this.finish(this.#options.lost(`cannot send: ${(error as Error).message}`))
    }
  }

  #sendData(body: Uint8Array): void {
    this.#sent++
    this.#send(MuxFrame.Data, 0, body)
  }

  #sendEnd(): void {
    this.#send(MuxFrame.End, 0, undefined)
    // The server's End completes the call; the client's only half-closes it.
    if (this.#options.isServer) this.finish(undefined)
  }

  #send(type: number, flags: number, body: Uint8Array | undefined): void {
    try {
      this.#host.send(this, type, flags, body)
    } catch (error) {
      this.finish(this.#options.lost(`cannot send: ${(error as Error).message}`))
    }
  }

  #closedError(): MicroError {
    const reason = this.#controller.signal.reason
    return reason instanceof MicroError ? reason : new MicroError('micro.stream', 'stream is closed', 499)
  }
}
