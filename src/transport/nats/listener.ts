import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node'
import { badRequest, canceled, MicroError, payloadTooLarge, serviceUnavailable } from '../../errors/errors.js'
import type { Headers } from '../frame.js'
import type { Dispatcher, InboundCall, Listener } from '../transport.js'
import type { NatsLink, NatsModule } from './connection.js'
import { decodeFrame, encodeFrame, NatsFrame } from './frames.js'
import {
  CONTROL_HEADER,
  ENDPOINT_HEADER,
  ERROR_HEADER,
  fromNatsHeaders,
  natsHeaderSize,
  STREAM_HEADER,
  TIMEOUT_HEADER,
  toNatsHeaders,
} from './headers.js'
import { type ServerStreamOptions, ServerStreams } from './server-streams.js'
import { CONTROL_SUFFIX } from './subject.js'

const EMPTY = new Uint8Array(0)

/** Settings of the serving end, resolved by NatsTransport. */
export interface NatsListenerOptions extends ServerStreamOptions {
  /** Queue group: instances listening on one subject share its calls. */
  queue: string
}

/** A unary call that arrived over NATS; answering it publishes to its reply subject. */
class NatsCall implements InboundCall {
  onCancel: ((reason: MicroError) => void) | undefined = undefined
  readonly protocol = 'nats'

  constructor(
    readonly listener: NatsListener,
    readonly reply: string,
    readonly endpoint: string,
    readonly headers: Headers,
    readonly body: Uint8Array,
    readonly timeout: number | undefined,
    readonly remote: string,
  ) {}

  respond(body: Uint8Array, headers?: Headers): void {
    this.listener.answer(this, body, headers, undefined)
  }

  fail(error: MicroError): void {
    this.listener.answer(this, Buffer.from(JSON.stringify(error)), undefined, 'error')
  }
}

/**
 * The serving end of the NATS transport for one subject. Requests arrive on the subject (in
 * the queue group); cancels and liveness probes of unary calls on `<subject>._ctl` (every
 * instance hears them; the one running the call acts); stream frames on this listener's own
 * inbox, `<inbox>.<stream id>`.
 */
export class NatsListener implements Listener {
  readonly address: string
  readonly #nc: NatsConnection
  readonly #nats: NatsModule
  readonly #dispatcher: Dispatcher
  readonly #maxFrameSize: number
  readonly #subscriptions: Subscription[]
  readonly #calls = new Map<string, NatsCall>()
  readonly #streams: ServerStreams
  readonly #errorHeaders: MsgHdrs
  readonly #lostHeaders: MsgHdrs
  readonly #pongHeaders: MsgHdrs
  readonly #stopStatus: () => void
  #draining = false
  #closed = false
  #drained: Promise<void> | undefined
  #whenIdle: (() => void) | undefined

  constructor(
    subject: string,
    nc: NatsConnection,
    nats: NatsModule,
    link: NatsLink,
    dispatcher: Dispatcher,
    options: NatsListenerOptions,
  ) {
    this.address = subject
    this.#nc = nc
    this.#nats = nats
    this.#dispatcher = dispatcher
    this.#maxFrameSize = options.maxFrameSize
    const inbox = nats.createInbox()
    this.#streams = new ServerStreams(nc, inbox, options, () => this.#checkIdle())
    this.#errorHeaders = toNatsHeaders(nats, { [ERROR_HEADER]: '1' })
    this.#lostHeaders = toNatsHeaders(nats, { [ERROR_HEADER]: 'lost' })
    this.#pongHeaders = toNatsHeaders(nats, { [CONTROL_HEADER]: 'pong' })
    const on = (handle: (msg: Msg) => void) => (error: Error | null, msg: Msg) => {
      if (error) return
      try {
        handle(msg)
      } catch {
        // Nothing a peer sends may take the listener down.
      }
    }
    this.#subscriptions = [
      nc.subscribe(subject, { queue: options.queue, callback: on((msg) => this.#onRequest(msg)) }),
      nc.subscribe(subject + CONTROL_SUFFIX, { callback: on((msg) => this.#onControl(msg)) }),
      nc.subscribe(`${inbox}.>`, { callback: on((msg) => this.#streams.receive(msg)) }),
    ]
    this.#stopStatus = link.onStatus((status) => {
      // Whatever the caller sent while we were away is lost: streams cannot go on.
      if (status.type === 'disconnect' || status.type === 'close') {
        this.#streams.finishAll(canceled('micro.server', 'the NATS connection was lost'))
      }
    })
  }

  /** Subscribe, and resolve once the NATS server has the subscriptions. */
  static async listen(
    subject: string,
    nc: NatsConnection,
    nats: NatsModule,
    link: NatsLink,
    dispatcher: Dispatcher,
    options: NatsListenerOptions,
  ): Promise<NatsListener> {
    const listener = new NatsListener(subject, nc, nats, link, dispatcher, options)
    await nc.flush()
    return listener
  }

  /** Calls and streams running now. */
  get inFlight(): number {
    return this.#calls.size + this.#streams.size
  }

  /** Publish the answer of a unary call, unless it was canceled or answered already. */
  answer(
    call: NatsCall,
    body: Uint8Array,
    headers: Headers | undefined,
    kind: 'error' | 'lost' | undefined,
  ): void {
    if (this.#calls.get(call.reply) !== call) return
    this.#calls.delete(call.reply)
    let natsHeaders: MsgHdrs | undefined
    if (kind === 'error') natsHeaders = this.#errorHeaders
    else if (kind === 'lost') natsHeaders = this.#lostHeaders
    else if (headers !== undefined && Object.keys(headers).length > 0) {
      try {
        natsHeaders = toNatsHeaders(this.#nats, headers)
      } catch (error) {
        body = Buffer.from(JSON.stringify(MicroError.from(error, 'micro.server')))
        natsHeaders = this.#errorHeaders
      }
    }
    const max = this.#nc.info?.max_payload ?? 1024 * 1024
    if (body.length + natsHeaderSize(natsHeaders) > max) {
      const error = payloadTooLarge(
        'micro.server',
        `reply of ${body.length} bytes is over the NATS server's max_payload of ${max} bytes`,
      )
      body = Buffer.from(JSON.stringify(error))
      natsHeaders = this.#errorHeaders
    }
    this.#publish(call.reply, body, natsHeaders)
    this.#checkIdle()
  }

  drain(): Promise<void> {
    if (this.#drained) return this.#drained
    this.#draining = true
    this.#drained = new Promise<void>((resolve) => {
      this.#whenIdle = resolve
    })
    this.#checkIdle()
    return this.#drained
  }

  async close(): Promise<void> {
    if (this.#closed) return
    void this.drain()
    const reason = canceled('micro.server', 'the server closed the listener')
    const lost = serviceUnavailable('micro.server', `${this.address} closed while the call was in flight`)
    for (const call of [...this.#calls.values()]) {
      this.answer(call, Buffer.from(JSON.stringify(lost)), undefined, 'lost')
      call.onCancel?.(reason)
    }
    this.#streams.abortAll(lost, reason)
    this.#stop()
  }

  #onRequest(msg: Msg): void {
    const reply = msg.reply
    // Without a reply subject nobody can be answered, so there is nothing to do.
    if (!reply) return
    let headers: Headers
    try {
      headers = fromNatsHeaders(msg.headers)
    } catch {
      this.#refuse(reply, false, badRequest('micro.server', 'malformed NATS headers'))
      return
    }
    const stream = headers[STREAM_HEADER] === '1'
    const endpoint = headers[ENDPOINT_HEADER]
    if (!endpoint) {
      this.#refuse(reply, stream, badRequest('micro.server', 'request has no micro-endpoint header'))
    } else if (msg.data.length > this.#maxFrameSize) {
      const detail = `request of ${msg.data.length} bytes is over the size limit`
      this.#refuse(reply, stream, payloadTooLarge('micro.server', detail))
    } else if (this.#draining) {
      this.#refuse(reply, stream, serviceUnavailable('micro.server', 'server is shutting down'))
    } else if (stream) {
      const info = { endpoint, headers, body: EMPTY, timeout: timeoutOf(headers), remote: remoteOf(reply) }
      this.#streams.open(reply, { ...info, protocol: 'nats' }, this.#dispatcher)
    } else if (this.#calls.has(reply)) {
      this.#refuse(reply, false, badRequest('micro.server', 'reply subject already in use by a call'))
    } else {
      const call = new NatsCall(this, reply, endpoint, headers, msg.data, timeoutOf(headers), remoteOf(reply))
      this.#calls.set(reply, call)
      try {
        this.#dispatcher.unary(call)
      } catch (error) {
        call.fail(MicroError.from(error, 'micro.server'))
      }
    }
  }

  /** A Cancel or a liveness Ping about a unary call, named by its reply subject. */
  #onControl(msg: Msg): void {
    const frame = decodeFrame(msg.data)
    if (frame === undefined) return
    const call = this.#calls.get(Buffer.from(frame.body).toString('utf8'))
    if (call === undefined) return
    if (frame.type === NatsFrame.Cancel) {
      this.#calls.delete(call.reply)
      call.onCancel?.(canceled('micro.server', 'canceled by the caller'))
      this.#checkIdle()
    } else if (frame.type === NatsFrame.Ping && msg.reply === call.reply) {
      this.#publish(call.reply, EMPTY, this.#pongHeaders)
    }
  }

  /** Answer a request we will not serve: an error reply, or an Error frame for a stream. */
  #refuse(reply: string, stream: boolean, error: MicroError): void {
    const body = Buffer.from(JSON.stringify(error))
    if (stream) this.#publish(reply, encodeFrame(NatsFrame.Error, 0, body), undefined)
    else this.#publish(reply, body, this.#errorHeaders)
  }

  #publish(subject: string, body: Uint8Array, headers: MsgHdrs | undefined): void {
    if (this.#nc.isClosed()) return
    try {
      this.#nc.publish(subject, body, headers === undefined ? undefined : { headers })
    } catch {
      // A reply that cannot be sent (connection closing) is a call the caller sees fail.
    }
  }

  #checkIdle(): void {
    if (this.#draining && !this.#closed && this.inFlight === 0) this.#stop()
  }

  /** Unsubscribe and let drain() resolve; replies already published stay queued in nats.js. */
  #stop(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stopStatus()
    this.#streams.stop()
    for (const subscription of this.#subscriptions) subscription.unsubscribe()
    // Flushing sends the last replies before whoever drained us closes the connection.
    void this.#nc
      .flush()
      .catch(() => {})
      .then(() => this.#whenIdle?.())
  }
}

function timeoutOf(headers: Headers): number | undefined {
  const text = headers[TIMEOUT_HEADER]
  if (text === undefined) return undefined
  const value = Number(text)
  return Number.isFinite(value) && value >= 0 ? value : undefined
}

/** Who called: the caller's inbox (NATS does not tell the peer's address). */
function remoteOf(reply: string): string {
  const dot = reply.lastIndexOf('.')
  return dot > 0 ? reply.slice(0, dot) : reply
}
