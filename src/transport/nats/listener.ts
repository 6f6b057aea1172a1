import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { NatsLink, NatsModule } from '../../engines/nats.js'
import { badRequest, canceled, MicroError, payloadTooLarge, serviceUnavailable } from '../../errors/errors.js'
import type { Headers } from '../frame.js'
import type { Dispatcher, Listener } from '../transport.js'
import { isNoResponders } from './headers.js'
import { MuxFlag, MuxFrame, type MuxSink, WINDOW_HEADER } from './mux-frame.js'
import { readMuxFrames } from './mux-reader.js'
import { Mailer } from './outbox.js'
import { PlainRequests, timeoutOf } from './plain.js'
import { MuxCall, ServerSession } from './session.js'
import { NatsStream } from './stream.js'
import { CONTROL_SUFFIX, MUX_SUFFIX } from './subject.js'

const EMPTY = new Uint8Array(0)
const MAX_SESSION = 0x7fffffff
/** A session with nothing running for this long is forgotten; the caller's next batch starts a new one. */
const SESSION_IDLE_MS = 60_000

/** Settings of the serving end, resolved by NatsTransport. */
export interface NatsListenerOptions {
  /** Queue group: instances listening on one subject share its calls. */
  queue: string
  streamWindow: number
  maxFrameSize: number
  keepAlive: number
  keepAliveTimeout: number
  /** Calls plus streams one caller's session may have in flight; more are answered 503. */
  maxSessionCalls: number
}

/**
 * The serving end of the NATS transport for one subject. Subscriptions: `<subject>._mux`
 * (queue group: batches of requests from micro-ts clients), `<subject>._ctl` (every instance:
 * cancels and probes), `<inbox>.>` (this instance: stream frames, and NATS's "no responders"
 * when a caller is gone) and `<subject>` (queue group: plain NATS requests, see plain.ts).
 * Each caller route gets a ServerSession; replies of one event-loop turn leave as one NATS
 * message per caller.
 */
export class NatsListener implements Listener {
  readonly address: string
  readonly dispatcher: Dispatcher
  readonly maxFrameSize: number
  readonly #nc: NatsConnection
  readonly #options: NatsListenerOptions
  readonly #inbox: string
  readonly #mailer: Mailer
  readonly #plain: PlainRequests
  readonly #subscriptions: Subscription[]
  readonly #sessions = new Map<string, ServerSession>()
  readonly #byNumber = new Map<number, ServerSession>()
  readonly #stopStatus: () => void
  #nextSession = 1
  #inFlight = 0
  #draining = false
  #closing = false
  #closed = false
  #drained: Promise<void> | undefined
  #whenIdle: (() => void) | undefined
  #timer: NodeJS.Timeout | undefined
  /** The message being read: its caller's subject, and its session once known. */
  #key = ''
  #session: ServerSession | undefined
  readonly #requestSink: MuxSink = {
    frame: (type, flags, id, headers, body) => this.#onRequest(type, flags, id, headers, body),
  }
  readonly #controlSink: MuxSink = { frame: (type, _flags, id) => this.#onControl(type, id) }
  readonly #streamSink: MuxSink = {
    frame: (type, flags, id, _headers, body) => this.#session?.streamFrame(type, flags, id, body),
  }
  readonly #owner = {
    ended: () => this.#ended(),
    started: () => {
      this.#inFlight++
    },
  }

  constructor(
    subject: string,
    nc: NatsConnection,
    nats: NatsModule,
    link: NatsLink,
    dispatcher: Dispatcher,
    options: NatsListenerOptions,
  ) {
    this.address = subject
    this.dispatcher = dispatcher
    this.maxFrameSize = options.maxFrameSize
    this.#nc = nc
    this.#options = options
    this.#inbox = nats.createInbox()
    // Replies made while the connection is down are held and sent once it is back.
    this.#mailer = new Mailer(nc, { holdWhileDown: true })
    const listener = this
    this.#plain = new PlainRequests(nc, nats, {
      dispatcher,
      maxFrameSize: options.maxFrameSize,
      get draining() {
        return listener.#draining
      },
      ...this.#owner,
    })
    const on = (handle: (msg: Msg) => void) => (error: Error | null, msg: Msg) => {
      if (error) return
      try {
        handle(msg)
      } catch {
        // Nothing a peer sends may take the listener down.
      } finally {
        this.#session = undefined
      }
    }
    const queue = options.queue
    this.#subscriptions = [
      nc.subscribe(subject + MUX_SUFFIX, { queue, callback: on((msg) => this.#onRequests(msg)) }),
      nc.subscribe(subject + CONTROL_SUFFIX, { callback: on((msg) => this.#onControls(msg)) }),
      nc.subscribe(`${this.#inbox}.>`, { callback: on((msg) => this.#onDirect(msg)) }),
      nc.subscribe(subject, { queue, callback: on((msg) => this.#plain.receive(msg)) }),
    ]
    this.#stopStatus = link.onStatus((status) => {
      if (status.type === 'reconnect') this.#mailer.resume()
      // Whatever the caller sent while we were away is lost: streams cannot go on.
      if (status.type === 'disconnect' || status.type === 'close') {
        const reason = canceled('micro.server', 'the NATS connection was lost')
        for (const session of this.#sessions.values()) {
          for (const stream of [...session.streams.values()]) stream.finish(reason)
        }
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
    return this.#inFlight
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
    this.#closing = true
    const reason = canceled('micro.server', 'the server closed the listener')
    const lost = serviceUnavailable('micro.server', `${this.address} closed while the call was in flight`)
    for (const session of this.#sessions.values()) session.closeAll(lost, reason)
    this.#plain.closeAll(lost, reason)
    this.#stop()
  }

  /** A batch of requests; its reply subject is `<caller subject>.<batch>`. */
  #onRequests(msg: Msg): void {
    const reply = msg.reply ?? ''
    const dot = reply.lastIndexOf('.')
    if (dot <= 0) return
    this.#key = reply.slice(0, dot)
    const session = this.#sessions.get(this.#key)
    if (session !== undefined) session.lastUsed = Date.now()
    this.#session = session
    readMuxFrames(msg.data, this.#requestSink)
  }

  #onRequest(type: number, flags: number, id: number, headers: Headers | undefined, body: Buffer): void {
    if (type !== MuxFrame.Request) return
    let session = this.#session
    if (session === undefined) {
      session = this.#newSession(this.#key)
      this.#session = session
    }
    const endpoint = headers?.['micro-endpoint']
    if (session.calls.has(id) || session.streams.has(id)) {
      session.error(id, badRequest('micro.server', `call id ${id} is already in use`), 0)
    } else if (headers === undefined || !endpoint) {
      session.error(id, badRequest('micro.server', 'request has no micro-endpoint header'), 0)
    } else if (body.length > this.maxFrameSize) {
      const detail = `request of ${body.length} bytes is over the size limit`
      session.error(id, payloadTooLarge('micro.server', detail), 0)
    } else if (this.#draining) {
      session.error(id, serviceUnavailable('micro.server', 'server is shutting down'), 0)
    } else if (session.calls.size + session.streams.size >= this.#options.maxSessionCalls) {
      const detail = `too many calls in flight from this caller (limit ${this.#options.maxSessionCalls})`
      session.error(id, serviceUnavailable('micro.server', detail), 0)
    } else if ((flags & MuxFlag.Stream) !== 0) {
      this.#openStream(session, id, endpoint, headers)
    } else {
      const call = new MuxCall(session, id, endpoint, headers, body, timeoutOf(headers), session.subject)
      session.calls.set(id, call)
      this.#inFlight++
      try {
        this.dispatcher.unary(call)
      } catch (error) {
        call.fail(MicroError.from(error, 'micro.server'))
      }
    }
  }

  #openStream(session: ServerSession, id: number, endpoint: string, headers: Headers): void {
    const window = Number(headers[WINDOW_HEADER])
    const streamWindow = this.#options.streamWindow
    const stream = new NatsStream(session, id, headers, session.outbox, {
      isServer: true,
      window: streamWindow,
      peerWindow: Number.isInteger(window) && window > 0 ? window : streamWindow,
      maxMessageSize: this.maxFrameSize,
      lost: (detail) => canceled('micro.server', `the caller is gone: ${detail}`),
    })
    session.streams.set(id, stream)
    this.#inFlight++
    session.outbox.value(MuxFrame.Open, id, streamWindow)
    const info = { endpoint, headers, body: EMPTY, timeout: timeoutOf(headers), remote: session.subject }
    try {
      this.dispatcher.stream({ ...info, protocol: 'nats' }, stream)
    } catch (error) {
      stream.fail(MicroError.from(error, 'micro.server'))
    }
  }

  /** Cancels and probes, sent to every instance; the one running the call acts. */
  #onControls(msg: Msg): void {
    const reply = msg.reply ?? ''
    const dot = reply.lastIndexOf('.')
    if (dot <= 0) return
    this.#session = this.#sessions.get(reply.slice(0, dot))
    if (this.#session !== undefined) readMuxFrames(msg.data, this.#controlSink)
  }

  #onControl(type: number, id: number): void {
    const session = this.#session as ServerSession
    if (type === MuxFrame.Cancel) session.cancel(id)
    else if (type === MuxFrame.Ping && session.calls.has(id)) {
      session.outbox.frame(MuxFrame.Pong, 0, id, undefined, undefined)
    }
  }

  /** Stream frames from a caller, on `<inbox>.<session>`; "no responders" there: the caller is gone. */
  #onDirect(msg: Msg): void {
    const number = Number(msg.subject.slice(this.#inbox.length + 1))
    const session = this.#byNumber.get(number)
    if (session === undefined) return
    if (msg.data.length === 0) {
      if (isNoResponders(msg.headers)) {
        this.#forget(session)
        session.abandon(canceled('micro.server', 'the caller is gone'))
      }
      return
    }
    session.lastUsed = Date.now()
    this.#session = session
    readMuxFrames(msg.data, this.#streamSink)
  }

  #newSession(key: string): ServerSession {
    const number = this.#nextSession
    this.#nextSession = number >= MAX_SESSION ? 1 : number + 1
    const session = new ServerSession(this.#owner, this.#mailer, key, number, `${this.#inbox}.${number}`)
    this.#sessions.set(key, session)
    this.#byNumber.set(number, session)
    this.#startTimer()
    return session
  }

  #forget(session: ServerSession): void {
    if (this.#sessions.get(session.subject) === session) this.#sessions.delete(session.subject)
    this.#byNumber.delete(session.number)
  }

  #ended(): void {
    this.#inFlight--
    if (this.#draining) this.#checkIdle()
  }

  #checkIdle(): void {
    if (this.#draining && !this.#closing && !this.#closed && this.#inFlight === 0) this.#stop()
  }

  /** Unsubscribe, send the last frames and let drain() resolve. */
  #stop(): void {
    if (this.#closed) return
    this.#closed = true
    this.#stopStatus()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    for (const subscription of this.#subscriptions) subscription.unsubscribe()
    this.#mailer.flushAll()
    this.#sessions.clear()
    this.#byNumber.clear()
    // Flushing sends the last replies before whoever drained us closes the connection.
    void this.#nc
      .flush()
      .catch(() => {})
      .then(() => this.#whenIdle?.())
  }

  /** Keep-alive of streams, and forgetting sessions idle for a while; runs while there are sessions. */
  #startTimer(): void {
    if (this.#timer !== undefined) return
    const { keepAlive, keepAliveTimeout } = this.#options
    this.#timer = setInterval(() => this.#tick(), Math.max(50, Math.min(keepAlive, keepAliveTimeout) / 2))
    this.#timer.unref()
  }

  #tick(): void {
    const now = Date.now()
    const { keepAlive, keepAliveTimeout } = this.#options
    for (const session of [...this.#sessions.values()]) {
      for (const stream of [...session.streams.values()]) stream.checkAlive(now, keepAlive, keepAliveTimeout)
      if (session.inFlight === 0 && now - session.lastUsed > SESSION_IDLE_MS) this.#forget(session)
    }
    if (this.#sessions.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}
