import { canceled, MicroError, payloadTooLarge } from '../../errors/errors.js'
import type { Headers } from '../frame.js'
import type { InboundCall } from '../transport.js'
import { MuxFlag, MuxFrame } from './mux-frame.js'
import { type Mailer, Outbox, OversizeFrame } from './outbox.js'
import type { NatsStream, NatsStreamHost } from './stream.js'

/** What a session needs from its listener. */
export interface SessionOwner {
  /** One call or stream of the session is over. */
  ended(): void
}

/** A unary call that arrived in a request batch; answering it queues a frame for its caller. */
export class MuxCall implements InboundCall {
  onCancel: ((reason: MicroError) => void) | undefined = undefined
  readonly protocol = 'nats'

  constructor(
    readonly session: ServerSession,
    readonly id: number,
    readonly endpoint: string,
    readonly headers: Headers,
    readonly body: Uint8Array,
    readonly timeout: number | undefined,
    readonly remote: string,
  ) {}

  respond(body: Uint8Array, headers?: Headers): void {
    this.session.answer(this, body, headers)
  }

  fail(error: MicroError): void {
    if (this.session.calls.get(this.id) !== this) return
    this.session.calls.delete(this.id)
    this.session.error(this.id, error, 0)
    this.session.owner.ended()
  }
}

/**
 * A listener's end of one client route (like one micro-protocol connection): the calls and
 * streams of that caller running here, and the outbox of frames back to its subject. Those
 * frames carry `<listener inbox>.<session number>` as their reply subject: the caller sends
 * stream frames there, and NATS answers "no responders" there when the caller is gone.
 */
export class ServerSession implements NatsStreamHost {
  readonly calls = new Map<number, MuxCall>()
  readonly streams = new Map<number, NatsStream>()
  readonly outbox: Outbox
  lastUsed = Date.now()

  constructor(
    readonly owner: SessionOwner,
    mailer: Mailer,
    /** The caller's subject, `<client inbox>.<route id>`. */
    readonly subject: string,
    readonly number: number,
    reply: string,
  ) {
    this.outbox = new Outbox(mailer, subject, reply)
  }

  get maxPayload(): number {
    return this.outbox.maxPayload
  }

  get inFlight(): number {
    return this.calls.size + this.streams.size
  }

  /** Queue the reply of a unary call, unless it was canceled or answered already. */
  answer(call: MuxCall, body: Uint8Array, headers: Headers | undefined): void {
    if (this.calls.get(call.id) !== call) return
    this.calls.delete(call.id)
    let replyHeaders = headers
    if (replyHeaders !== undefined) {
      let any = false
      for (const _ in replyHeaders) {
        any = true
        break
      }
      if (!any) replyHeaders = undefined
    }
    try {
      this.outbox.frame(MuxFrame.Data, MuxFlag.End, call.id, replyHeaders, body)
    } catch (error) {
      const reason =
        error instanceof OversizeFrame
          ? payloadTooLarge(
              'micro.server',
              `reply of ${body.length} bytes is over the NATS server's max_payload of ${error.max} bytes`,
            )
          : MicroError.from(error, 'micro.server')
      this.error(call.id, reason, 0)
    }
    this.owner.ended()
  }

  /** Queue an Error frame for call or stream `id`. */
  error(id: number, error: MicroError, flags: number): void {
    try {
      this.outbox.frame(MuxFrame.Error, flags, id, undefined, Buffer.from(JSON.stringify(error)))
    } catch {
      // an error JSON over max_payload: the caller's deadline or probe ends the call
    }
  }

  /** A Cancel from the caller: abort the call's handler or the stream. */
  cancel(id: number): void {
    const call = this.calls.get(id)
    if (call !== undefined) {
      this.calls.delete(id)
      call.onCancel?.(canceled('micro.server', 'canceled by the caller'))
      this.owner.ended()
      return
    }
    this.streams.get(id)?.receive(MuxFrame.Cancel, 0, Buffer.alloc(0))
  }

  /** A frame of one of this session's streams; frames of a stream that is over are answered with Cancel. */
  streamFrame(type: number, flags: number, id: number, body: Buffer): void {
    const stream = this.streams.get(id)
    if (stream !== undefined) stream.receive(type, flags, body)
    else if (type !== MuxFrame.Cancel && type !== MuxFrame.Pong && type !== MuxFrame.End) {
      this.outbox.frame(MuxFrame.Cancel, 0, id, undefined, undefined)
    }
  }

  /** The caller is gone (or the listener is going): cancel every handler, end every stream. */
  abandon(reason: MicroError): void {
    const calls = [...this.calls.values()]
    this.calls.clear()
    for (const call of calls) {
      call.onCancel?.(reason)
      this.owner.ended()
    }
    for (const stream of [...this.streams.values()]) stream.finish(reason)
  }

  /** The listener closes: tell the caller each call and stream is lost, then abandon them. */
  closeAll(lost: MicroError, reason: MicroError): void {
    for (const id of this.calls.keys()) this.error(id, lost, MuxFlag.Lost)
    for (const id of this.streams.keys()) this.error(id, lost, MuxFlag.Lost)
    this.abandon(reason)
  }

  /** NatsStreamHost: frames to the caller. */
  send(stream: NatsStream, type: number, flags: number, body: Uint8Array | undefined): void {
    this.outbox.frame(type, flags, stream.id, undefined, body)
  }

  sendValue(stream: NatsStream, type: number, value: number): void {
    this.outbox.value(type, stream.id, value)
  }

  release(stream: NatsStream): void {
    if (this.streams.get(stream.id) !== stream) return
    this.streams.delete(stream.id)
    this.owner.ended()
  }
}
