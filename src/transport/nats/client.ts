import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { NatsLink, NatsModule } from '../../engines/nats.js'
import { badRequest, canceled, MicroError, payloadTooLarge } from '../../errors/errors.js'
import type { Headers } from '../frame.js'
import type { OutboundCall, OutboundStream, Reply, StreamChannel } from '../transport.js'
import { lostError, unsentError } from '../transport-errors.js'
import { type ClientStreamOptions, ClientStreams } from './client-streams.js'
import { isNoResponders } from './headers.js'
import { MuxFlag, MuxFrame, type MuxSink } from './mux-frame.js'
import { readMuxFrames } from './mux-reader.js'
import { Mailer, OversizeFrame } from './outbox.js'
import { type CallCanceler, outbound, PendingCall } from './pending.js'
import { Route } from './route.js'
import { isNatsSubject } from './subject.js'

const MAX_ID = 0x7fffffff
/** A route nobody has used for this long is forgotten (its node may be gone for good). */
const ROUTE_IDLE_MS = 60_000
/**
 * How often routes with calls in flight are checked. A route none of whose calls settled
 * for a whole period is probed once on `<node>._ctl`; a node whose process died has no
 * subscription left there, so NATS answers "no responders" at once and its calls fail as
 * lost (and are retried elsewhere when idempotent) within about two periods, instead of
 * waiting `keepAlive` for per-call probes. A busy, healthy route settles calls all the
 * time and is never probed.
 */
const NODE_CHECK_MS = 250

/** Settings of the client end, resolved by NatsTransport. */
export interface NatsClientOptions extends ClientStreamOptions {
  keepAlive: number
  keepAliveTimeout: number
}

/**
 * The calling end of the NATS transport. One inbox subscription (`<inbox>.>`) receives the
 * frames of every call and stream; a Route per node subject batches what goes to that node.
 * The client enforces deadlines and abort signals and cancels on the server; calls the
 * server has been silent about are probed.
 */
export class NatsClient implements CallCanceler, MuxSink {
  readonly #link: NatsLink
  readonly #inbox: string
  readonly #subscription: Subscription
  readonly #options: NatsClientOptions
  readonly #mailer: Mailer
  readonly #routes = new Map<string, Route>()
  readonly #routeById = new Map<number, Route>()
  readonly #calls = new Map<number, PendingCall>()
  readonly #streams: ClientStreams
  #nextId = 1
  #nextRoute = 1
  #timer: NodeJS.Timeout | undefined
  /** When calls and streams were last checked for silence. */
  #lastProbe = 0
  #closed = false
  /** The message being read: where stray stream frames are answered. */
  #current: Msg | undefined

  constructor(nc: NatsConnection, nats: NatsModule, link: NatsLink, options: NatsClientOptions) {
    this.#link = link
    this.#options = options
    this.#inbox = nats.createInbox()
    this.#mailer = new Mailer(nc)
    this.#streams = new ClientStreams(options, () => this.#mailer.maxPayload)
    this.#subscription = nc.subscribe(`${this.#inbox}.>`, {
      callback: (error, msg) => {
        if (!error) this.#onMessage(msg)
      },
    })
    link.onStatus((status) => {
      if (status.type === 'disconnect' || status.type === 'close') {
        this.#failAll('the NATS connection was lost while the call was in flight')
      }
    })
  }

  /** One unary call. The client enforces `timeout` and `signal`; both cancel it on the server. */
  call(address: string, call: OutboundCall): Promise<Reply> {
    const route = this.#routeFor(address)
    if (route instanceof MicroError) return Promise.reject(route)
    const signal = call.signal
    if (signal?.aborted) return Promise.reject(canceled('micro.client', 'call canceled before it was sent'))
    const id = this.#allocateId()
    const timeout = call.timeout
    return new Promise<Reply>((resolve, reject) => {
      const pending = new PendingCall(this, id, route, call.endpoint, timeout, signal, resolve, reject)
      // Until the request is queued its batch is unknown: a batch that fails to send while
      // it is being queued (flushed to make room) is not this call's.
      pending.batch = -1
      let batch: number
      try {
        batch = route.requests.request(
          MuxFlag.Message | MuxFlag.End,
          id,
          call.endpoint,
          timeout,
          call.headers,
          call.body,
        )
      } catch (error) {
        reject(requestError(error))
        return
      }
      if (route.requests.failedSeq === batch) {
        // Its batch was sent at once (early flush) and that failed.
        reject(
          unsentError(
            `cannot send to ${route.address}: ${(route.requests.failure as Error)?.message ?? 'the send failed'}`,
            route.requests.failure,
          ),
        )
        return
      }
      pending.batch = batch
      this.#calls.set(id, pending)
      route.inFlight++
      route.calls++
      route.lastCallId = id
      outbound.add(pending)
      if (signal) {
        pending.onAbort = () =>
          this.cancel(pending, canceled('micro.client', `call to ${call.endpoint} was canceled`))
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      this.#startTimer()
    })
  }

  /** Open a stream; resolves once the server accepted it. */
  stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    const route = this.#routeFor(address)
    if (route instanceof MicroError) return Promise.reject(route)
    if (call.signal?.aborted) {
      return Promise.reject(canceled('micro.client', 'stream canceled before it was opened'))
    }
    let opening: Promise<StreamChannel>
    try {
      opening = this.#streams.open(this.#allocateId(), route, call)
    } catch (error) {
      return Promise.reject(requestError(error))
    }
    this.#startTimer()
    return opening
  }

  /** Abandon a unary call: tell the server, fail the caller with `error`. */
  cancel(pending: PendingCall, error: MicroError): void {
    if (this.#calls.get(pending.id) !== pending) return
    this.#settle(pending)
    pending.route.sendControl(MuxFrame.Cancel, pending.id)
    pending.reject(error)
  }

  /** Fail everything in flight and stop listening; the connection belongs to the transport. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#failAll('the NATS transport was closed')
    this.#subscription.unsubscribe()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** MuxSink: one frame from a server. */
  frame(type: number, flags: number, id: number, headers: Headers | undefined, body: Buffer): void {
    const pending = this.#calls.get(id)
    if (pending !== undefined) {
      if (type === MuxFrame.Data) {
        this.#settle(pending)
        pending.resolve({ body, headers })
        return
      }
      if (type === MuxFrame.Error) {
        this.#settle(pending)
        const error = MicroError.parse(body.toString('utf8'), 'micro.server')
        pending.reject((flags & MuxFlag.Lost) !== 0 ? lostError(error.detail) : error)
        return
      }
      if (type === MuxFrame.Pong) {
        pending.lastHeard = outbound.now()
        pending.probeSent = 0
      }
      return
    }
    const reply = this.#current?.reply ?? ''
    if (this.#streams.receive(type, flags, id, body, reply)) return
    // A frame of a stream that is over: tell the instance to stop it. Late unary replies and
    // final frames need no answer.
    const stray = type === MuxFrame.Ping || type === MuxFrame.Credit || type === MuxFrame.Open
    if ((stray || (type === MuxFrame.Data && (flags & MuxFlag.End) === 0)) && reply !== '') {
      this.#routeOfSubject(this.#current?.subject ?? '')
        ?.peer(reply)
        .outbox.frame(MuxFrame.Cancel, 0, id, undefined, undefined)
    }
  }

  #onMessage(msg: Msg): void {
    const data = msg.data
    if (data.length === 0) {
      if (isNoResponders(msg.headers)) this.#undelivered(msg.subject)
      return
    }
    this.#current = msg
    try {
      readMuxFrames(data, this)
    } catch {
      // A malformed message: the frames before the bad one were taken, the rest is dropped.
    } finally {
      this.#current = undefined
    }
  }

  /** NATS answered "no responders" to the reply subject `<inbox>.<route>.<tag>`. */
  #undelivered(subject: string): void {
    const rest = subject.slice(this.#inbox.length + 1)
    const dot = rest.indexOf('.')
    const route = this.#routeById.get(Number(rest.slice(0, dot)))
    const what = dot > 0 ? route?.undelivered(rest.slice(dot + 1)) : undefined
    if (route === undefined || what === undefined) return
    if (what.kind === 'peer') {
      this.#streams.peerGone(route, what.peer)
      return
    }
    for (const pending of [...this.#calls.values()]) {
      if (pending.route !== route) continue
      if (what.kind === 'requests' && pending.batch === what.batch) {
        this.#settle(pending)
        pending.reject(unsentError(`no server listens on ${route.address}`))
      } else if (what.kind === 'control' && pending.batch <= what.batch) {
        this.#settle(pending)
        pending.reject(lostError(`${route.address} went away while ${pending.endpoint} was in flight`))
      }
    }
    if (what.kind === 'requests') this.#streams.unsent(route, what.batch)
  }

  /** The route to `address`, or why there is none (closed, reconnecting, not a subject). */
  #routeFor(address: string): Route | MicroError {
    if (this.#closed) return unsentError('the NATS transport is closed')
    if (!this.#link.connected)
      return unsentError(`not connected to NATS (reconnecting); ${address} not called`)
    let route = this.#routes.get(address)
    if (route === undefined) {
      if (!isNatsSubject(address))
        return badRequest('micro.client', `${JSON.stringify(address)} is not a NATS subject`)
      const id = this.#nextRoute++
      route = new Route(this.#mailer, id, address, this.#inbox, (r, batch, error) =>
        this.#requestsFailed(r, batch, error),
      )
      this.#routes.set(address, route)
      this.#routeById.set(id, route)
    }
    route.lastUsed = outbound.now()
    return route
  }

  #routeOfSubject(subject: string): Route | undefined {
    return this.#routeById.get(Number(subject.slice(this.#inbox.length + 1)))
  }

  /** nats.js refused a request batch (the connection is closing): its calls were not sent. */
  #requestsFailed(route: Route, batch: number, error: unknown): void {
    const reason = unsentError(`cannot send to ${route.address}: ${(error as Error).message}`, error)
    for (const pending of [...this.#calls.values()]) {
      if (pending.route === route && pending.batch === batch) {
        this.#settle(pending)
        pending.reject(reason)
      }
    }
    this.#streams.unsent(route, batch)
  }

  #settle(pending: PendingCall): void {
    this.#calls.delete(pending.id)
    const route = pending.route
    route.inFlight--
    route.calls--
    route.settled++
    outbound.remove(pending)
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort)
  }

  /** Fail every call and stream (unsent if its request never left) and start over with new routes. */
  #failAll(detail: string): void {
    const lost = lostError(detail)
    const unsent = unsentError(detail)
    for (const pending of [...this.#calls.values()]) {
      this.#settle(pending)
      pending.reject(pending.route.sent(pending.batch) ? lost : unsent)
    }
    this.#streams.failAll(lost, unsent)
    for (const route of this.#routes.values()) route.discard()
    this.#routes.clear()
    this.#routeById.clear()
  }

  #allocateId(): number {
    let id = this.#nextId
    while (this.#calls.has(id) || this.#streams.has(id)) id = id >= MAX_ID ? 1 : id + 1
    this.#nextId = id >= MAX_ID ? 1 : id + 1
    return id
  }

  /**
   * Keep-alive: find dead nodes (every NODE_CHECK_MS), probe calls and streams the server
   * has been silent about, forget idle routes.
   */
  #startTimer(): void {
    if (this.#timer !== undefined) return
    const { keepAlive, keepAliveTimeout } = this.#options
    const every = Math.max(50, Math.min(keepAlive, keepAliveTimeout) / 2)
    this.#timer = setInterval(() => this.#checkAlive(), Math.min(every, NODE_CHECK_MS))
    this.#timer.unref()
  }

  #checkAlive(): void {
    const now = Date.now()
    for (const [address, route] of this.#routes) {
      if (route.inFlight === 0 && now - route.lastUsed > ROUTE_IDLE_MS) {
        route.discard()
        this.#routes.delete(address)
        this.#routeById.delete(route.id)
      } else {
        this.#checkNode(route)
      }
    }
    if (this.#calls.size === 0 && this.#streams.size === 0 && this.#routes.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    const { keepAlive, keepAliveTimeout } = this.#options
    // Per-call and stream probes at their own pace; the timer runs faster for #checkNode.
    const every = Math.max(50, Math.min(keepAlive, keepAliveTimeout) / 2)
    if (now - this.#lastProbe < every - 10) return
    this.#lastProbe = now
    for (const pending of [...this.#calls.values()]) {
      if (pending.probeSent > 0) {
        if (now - pending.probeSent > keepAliveTimeout) {
          const detail = `${pending.route.address} did not answer a liveness probe within ${keepAliveTimeout} ms`
          this.cancel(pending, lostError(detail))
        }
      } else if (now - pending.lastHeard >= keepAlive) {
        pending.probeSent = now
        pending.route.sendControl(MuxFrame.Ping, pending.id)
      }
    }
    this.#streams.checkAlive(now, keepAlive, keepAliveTimeout)
  }

  /**
   * A route that had calls in flight at the last check and has settled none since: is its
   * node still there? One Ping on `<node>._ctl`; "no responders" (#undelivered) fails the
   * calls it sent as lost, a live node answers Pong or ignores it.
   */
  #checkNode(route: Route): void {
    const quiet = route.busyAtCheck && route.calls > 0 && route.settled === route.settledAtCheck
    route.busyAtCheck = route.calls > 0
    route.settledAtCheck = route.settled
    if (quiet) route.sendControl(MuxFrame.Ping, route.lastCallId)
  }
}

/** Why a request could not be queued: too large for NATS (413) or a header that cannot be encoded (400). */
function requestError(error: unknown): MicroError {
  if (error instanceof OversizeFrame) {
    return payloadTooLarge(
      'micro.client',
      `request of ${error.size} bytes is over the NATS server's max_payload of ${error.max} bytes`,
    )
  }
  if (error instanceof RangeError) return badRequest('micro.client', error.message)
  return MicroError.from(error, 'micro.client')
}
