import type { Msg, MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import type { NatsModule } from '../../engines/nats.js'
import { badRequest, MicroError, payloadTooLarge, serviceUnavailable } from '../../errors/errors.js'
import type { Headers } from '../frame.js'
import type { Dispatcher, InboundCall } from '../transport.js'
import {
  ENDPOINT_HEADER,
  ERROR_HEADER,
  fromNatsHeaders,
  natsHeaderSize,
  STREAM_HEADER,
  TIMEOUT_HEADER,
  toNatsHeaders,
} from './headers.js'

/** What the plain path needs from its listener. */
export interface PlainOwner {
  readonly dispatcher: Dispatcher
  readonly maxFrameSize: number
  readonly draining: boolean
  started(): void
  ended(): void
}

/** A call from a plain NATS request; answering it publishes to the request's reply subject. */
class PlainCall implements InboundCall {
  onCancel: ((reason: MicroError) => void) | undefined = undefined
  readonly protocol = 'nats'

  constructor(
    readonly owner: PlainRequests,
    readonly reply: string,
    readonly endpoint: string,
    readonly headers: Headers,
    readonly body: Uint8Array,
    readonly timeout: number | undefined,
    readonly remote: string,
  ) {}

  respond(body: Uint8Array, headers?: Headers): void {
    this.owner.answer(this, body, headers, undefined)
  }

  fail(error: MicroError): void {
    this.owner.answer(this, Buffer.from(JSON.stringify(error)), undefined, 'error')
  }
}

/**
 * The single-request path, for any NATS client: a request to the node subject with our
 * headers as NATS headers (`Micro-Endpoint`, `timeout`, `content-type`, metadata) and the
 * body as is; the reply is the body, or the error JSON with the header `micro-error: 1`.
 * micro-ts clients use the multiplexed path instead; this one serves tools and other
 * languages (`nats req <node subject> '{...}' -H Micro-Endpoint:Greeter.Hello`).
 */
export class PlainRequests {
  readonly #nc: NatsConnection
  readonly #nats: NatsModule
  readonly #owner: PlainOwner
  readonly #calls = new Map<string, PlainCall>()
  readonly #errorHeaders: MsgHdrs
  readonly #lostHeaders: MsgHdrs

  constructor(nc: NatsConnection, nats: NatsModule, owner: PlainOwner) {
    this.#nc = nc
    this.#nats = nats
    this.#owner = owner
    this.#errorHeaders = toNatsHeaders(nats, { [ERROR_HEADER]: '1' })
    this.#lostHeaders = toNatsHeaders(nats, { [ERROR_HEADER]: 'lost' })
  }

  get size(): number {
    return this.#calls.size
  }

  /** A request on the node subject. */
  receive(msg: Msg): void {
    const reply = msg.reply
    // Without a reply subject nobody can be answered, so there is nothing to do.
    if (!reply) return
    let headers: Headers
    try {
      headers = fromNatsHeaders(msg.headers)
    } catch {
      this.#refuse(reply, badRequest('micro.server', 'malformed NATS headers'))
      return
    }
    const endpoint = headers[ENDPOINT_HEADER]
    const owner = this.#owner
    if (!endpoint) {
      this.#refuse(reply, badRequest('micro.server', 'request has no micro-endpoint header'))
    } else if (headers[STREAM_HEADER] !== undefined) {
      this.#refuse(reply, badRequest('micro.server', 'streams over NATS need the multiplexed protocol'))
    } else if (msg.data.length > owner.maxFrameSize) {
      const detail = `request of ${msg.data.length} bytes is over the size limit`
      this.#refuse(reply, payloadTooLarge('micro.server', detail))
    } else if (owner.draining) {
      this.#refuse(reply, serviceUnavailable('micro.server', 'server is shutting down'))
    } else if (this.#calls.has(reply)) {
      this.#refuse(reply, badRequest('micro.server', 'reply subject already in use by a call'))
    } else {
      const call = new PlainCall(
        this,
        reply,
        endpoint,
        headers,
        msg.data,
        timeoutOf(headers),
        remoteOf(reply),
      )
      this.#calls.set(reply, call)
      owner.started()
      try {
        owner.dispatcher.unary(call)
      } catch (error) {
        call.fail(MicroError.from(error, 'micro.server'))
      }
    }
  }

  /** Publish the answer of a call, unless it was answered already. */
  answer(
    call: PlainCall,
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
    this.#owner.ended()
  }

  /** The listener closes: answer every call with a lost 503 and abort its handler. */
  closeAll(lost: MicroError, reason: MicroError): void {
    for (const call of [...this.#calls.values()]) {
      this.answer(call, Buffer.from(JSON.stringify(lost)), undefined, 'lost')
      call.onCancel?.(reason)
    }
  }

  #refuse(reply: string, error: MicroError): void {
    this.#publish(reply, Buffer.from(JSON.stringify(error)), this.#errorHeaders)
  }

  #publish(subject: string, body: Uint8Array, headers: MsgHdrs | undefined): void {
    if (this.#nc.isClosed()) return
    try {
      this.#nc.publish(subject, body, headers === undefined ? undefined : { headers })
    } catch {
      // A reply that cannot be sent (connection closing) is a call the caller sees fail.
    }
  }
}

/** The `timeout` header (ms the caller allows), when it is a number. */
export function timeoutOf(headers: Headers): number | undefined {
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
