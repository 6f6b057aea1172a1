import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node'
import { canceled, MicroError, payloadTooLarge } from '../../errors/errors.js'
import type { OutboundCall, OutboundStream, Reply, StreamChannel } from '../transport.js'
import { lostError, unsentError } from '../transport-errors.js'
import { type ClientStreamOptions, ClientStreams } from './client-streams.js'
import type { NatsLink, NatsModule } from './connection.js'
import { encodeFrame, NatsFrame } from './frames.js'
import {
  CONTROL_HEADER,
  ENDPOINT_HEADER,
  ERROR_HEADER,
  fromNatsHeaders,
  isNoResponders,
  natsHeader,
  natsHeaderSize,
  STREAM_HEADER,
  TIMEOUT_HEADER,
  toNatsHeaders,
  WINDOW_HEADER,
} from './headers.js'
import { type CallCanceler, outbound, PendingCall } from './pending.js'
import { CONTROL_SUFFIX, lastTokenId, publishFailure } from './subject.js'

const MAX_ID = 0x7fffffff
/** Headers are counted exactly only when a body comes this close to max_payload. */
const HEADER_ALLOWANCE = 8192

/** Settings of the client end, resolved by NatsTransport. */
export interface NatsClientOptions extends ClientStreamOptions {
  keepAlive: number
  keepAliveTimeout: number
}

/**
 * The calling end of the NATS transport: one inbox subscription (`<inbox>.>`) receives the
 * replies of every unary call (`<inbox>.<id>`) and the frames of every stream. Requests go to
 * the node subject with the reply subject set, so NATS itself answers 503 when nobody serves
 * it; cancels and liveness probes go to `<node subject>._ctl`.
 */
export class NatsClient implements CallCanceler {
  readonly #nc: NatsConnection
  readonly #nats: NatsModule
  readonly #link: NatsLink
  readonly #inbox: string
  readonly #subscription: Subscription
  readonly #options: NatsClientOptions
  readonly #calls = new Map<number, PendingCall>()
  readonly #streams: ClientStreams
  #nextId = 1
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(nc: NatsConnection, nats: NatsModule, link: NatsLink, options: NatsClientOptions) {
    this.#nc = nc
    this.#nats = nats
    this.#link = link
    this.#options = options
    this.#inbox = nats.createInbox()
    this.#streams = new ClientStreams(nc, this.#inbox, options)
    this.#subscription = nc.subscribe(`${this.#inbox}.>`, {
      callback: (error, msg) => {
        if (!error) this.#onMessage(msg)
      },
    })
    link.onStatus((status) => {
      if (status.type === 'disconnect' || status.type === 'close') {
        this.#failAll(lostError('the NATS connection was lost while the call was in flight'))
      }
    })
  }

  get maxPayload(): number {
    return this.#nc.info?.max_payload ?? 1024 * 1024
  }

  /** One unary call. The client enforces `timeout` and `signal`; both cancel it on the server. */
  call(address: string, call: OutboundCall): Promise<Reply> {
    const refused = this.#refusal(address)
    if (refused) return Promise.reject(refused)
    const signal = call.signal
    if (signal?.aborted) return Promise.reject(canceled('micro.client', 'call canceled before it was sent'))
    let headers: MsgHdrs
    try {
      headers = this.#requestHeaders(call.headers, call.endpoint, call.timeout, undefined)
      this.#checkSize(call.body, headers)
    } catch (error) {
      return Promise.reject(MicroError.from(error, 'micro.client'))
    }
    const id = this.#allocateId()
    const timeout = call.timeout
    return new Promise<Reply>((resolve, reject) => {
      const deadline = timeout === undefined ? undefined : outbound.now() + timeout
      const pending = new PendingCall(
        this,
        id,
        address,
        call.endpoint,
        deadline,
        timeout,
        signal,
        resolve,
        reject,
      )
      this.#calls.set(id, pending)
      outbound.add(pending)
      if (signal) {
        pending.onAbort = () =>
          this.cancel(pending, canceled('micro.client', `call to ${call.endpoint} was canceled`))
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      try {
        this.#nc.publish(address, call.body, { reply: `${this.#inbox}.${id}`, headers })
      } catch (error) {
        this.#settle(pending)
        reject(publishFailure(address, error))
        return
      }
      this.#startTimer()
    })
  }

  /** Open a stream; resolves once the server accepted it. */
  stream(address: string, call: OutboundStream): Promise<StreamChannel> {
    const refused = this.#refusal(address)
    if (refused) return Promise.reject(refused)
    if (call.signal?.aborted) {
      return Promise.reject(canceled('micro.client', 'stream canceled before it was opened'))
    }
    let headers: MsgHdrs
    try {
      headers = this.#requestHeaders(call.headers, call.endpoint, call.timeout, this.#options.streamWindow)
    } catch (error) {
      return Promise.reject(MicroError.from(error, 'micro.client'))
    }
    this.#startTimer()
    return this.#streams.open(this.#allocateId(), address, call, headers)
  }

  /** Abandon a unary call: tell the server, fail the caller with `error`. */
  cancel(pending: PendingCall, error: MicroError): void {
    if (this.#calls.get(pending.id) !== pending) return
    this.#settle(pending)
    this.#control(pending, NatsFrame.Cancel)
    pending.reject(error)
  }

  /** Fail everything in flight and stop listening; the connection belongs to the transport. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#failAll(lostError('the NATS transport was closed'))
    this.#subscription.unsubscribe()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
  }

  #refusal(address: string): MicroError | undefined {
    if (this.#closed) return unsentError('the NATS transport is closed')
    if (!this.#link.connected)
      return unsentError(`not connected to NATS (reconnecting); ${address} not called`)
    return undefined
  }

  #requestHeaders(
    given: Record<string, string>,
    endpoint: string,
    timeout: number | undefined,
    window: number | undefined,
  ): MsgHdrs {
    const extra: Record<string, string> = { [ENDPOINT_HEADER]: endpoint }
    if (timeout !== undefined) extra[TIMEOUT_HEADER] = String(Math.max(0, Math.ceil(timeout)))
    if (window !== undefined) {
      extra[STREAM_HEADER] = '1'
      extra[WINDOW_HEADER] = String(window)
    }
    return toNatsHeaders(this.#nats, given, extra)
  }

  #checkSize(body: Uint8Array, headers: MsgHdrs): void {
    const max = this.maxPayload
    if (body.length + HEADER_ALLOWANCE <= max) return
    const size = body.length + natsHeaderSize(headers)
    if (size > max) {
      throw payloadTooLarge(
        'micro.client',
        `request of ${size} bytes is over the NATS server's max_payload of ${max} bytes`,
      )
    }
  }

  #onMessage(msg: Msg): void {
    const id = lastTokenId(msg.subject)
    const pending = this.#calls.get(id)
    if (pending !== undefined) this.#onReply(pending, msg)
    else if (!this.#streams.receive(id, msg)) this.#streams.stray(msg)
  }

  #onReply(pending: PendingCall, msg: Msg): void {
    const headers = msg.headers
    if (headers !== undefined) {
      if (isNoResponders(headers) && msg.data.length === 0) {
        this.#settle(pending)
        pending.reject(
          pending.probeSent > 0
            ? lostError(`${pending.address} went away while ${pending.endpoint} was in flight`)
            : unsentError(`no server listens on ${pending.address}`),
        )
        return
      }
      if (natsHeader(headers, CONTROL_HEADER) !== undefined) {
        pending.lastHeard = Date.now()
        pending.probeSent = 0
        return
      }
      const error = natsHeader(headers, ERROR_HEADER)
      if (error !== undefined) {
        this.#settle(pending)
        const parsed = MicroError.parse(Buffer.from(msg.data).toString('utf8'), 'micro.server')
        pending.reject(error === 'lost' ? lostError(parsed.detail) : parsed)
        return
      }
    }
    this.#settle(pending)
    pending.resolve({ body: msg.data, headers: headers === undefined ? undefined : fromNatsHeaders(headers) })
  }

  /** Send a Cancel or a liveness Ping about a unary call to its node's control subject. */
  #control(pending: PendingCall, type: typeof NatsFrame.Cancel | typeof NatsFrame.Ping): void {
    const reply = `${this.#inbox}.${pending.id}`
    try {
      this.#nc.publish(
        pending.address + CONTROL_SUFFIX,
        encodeFrame(type, 0, Buffer.from(reply)),
        type === NatsFrame.Ping ? { reply } : undefined,
      )
    } catch {
      // the connection is gone: the server learns nothing, the caller is failed anyway
    }
  }

  #settle(pending: PendingCall): void {
    this.#calls.delete(pending.id)
    outbound.remove(pending)
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort)
  }

  #failAll(reason: MicroError): void {
    for (const pending of [...this.#calls.values()]) {
      this.#settle(pending)
      pending.reject(reason)
    }
    this.#streams.failAll(reason)
  }

  #allocateId(): number {
    let id = this.#nextId
    while (this.#calls.has(id) || this.#streams.has(id)) id = id >= MAX_ID ? 1 : id + 1
    this.#nextId = id >= MAX_ID ? 1 : id + 1
    return id
  }

  /** Keep-alive: probe calls and streams the server has been silent about. */
  #startTimer(): void {
    if (this.#timer !== undefined) return
    const { keepAlive, keepAliveTimeout } = this.#options
    const every = Math.max(50, Math.min(keepAlive, keepAliveTimeout) / 2)
    this.#timer = setInterval(() => this.#checkAlive(), every)
    this.#timer.unref()
  }

  #checkAlive(): void {
    if (this.#calls.size === 0 && this.#streams.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    const now = Date.now()
    const { keepAlive, keepAliveTimeout } = this.#options
    for (const pending of [...this.#calls.values()]) {
      if (pending.probeSent > 0) {
        if (now - pending.probeSent > keepAliveTimeout) {
          const detail = `${pending.address} did not answer a liveness probe within ${keepAliveTimeout} ms`
          this.cancel(pending, lostError(detail))
        }
      } else if (now - pending.lastHeard >= keepAlive) {
        pending.probeSent = now
        this.#control(pending, NatsFrame.Ping)
      }
    }
    this.#streams.checkAlive(now, keepAlive, keepAliveTimeout)
  }
}
