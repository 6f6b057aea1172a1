import type { Msg, Subscription } from '@nats-io/transport-node'
import { conflict, serviceUnavailable } from '../errors/errors.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { NatsLink } from './nats-streams.js'
import type { Accept, Delivery } from './source.js'

/** One pull request the server may still be answering. */
interface Request {
  /** Messages it may still bring. */
  remaining: number
  accept: Accept
  resolve: () => void
  reject: (error: unknown) => void
  /** When the server ends it (408), ms since the epoch. */
  expires: number
  /** Liveness checks since the last message or heartbeat for it. */
  quiet: number
  /** Its own reply subscription: JetStream delivers under the event's subject, so only the subscription tells requests apart. */
  subscription: Subscription
}

/** What the puller needs from its consumer. */
export interface PullTarget {
  /** `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`. */
  subject: string
  /** A delivered message as a delivery; undefined when it is not a JetStream message. */
  delivery(msg: Msg): Delivery | undefined
  /** The consumer is gone (deleted, or dropped while disconnected): create it again. */
  missing(): void
}

/** Checks without a sign of life after which a request counts as lost (connection trouble). */
const QUIET_LIMIT = 3

/**
 * JetStream pull requests for one consumer, several at once: each request has its own reply
 * subject `<inbox>.<n>` and a callback subscription to it (no iterator, no timers per
 * batch), so its messages and its end (408 at expiry) are told apart: JetStream delivers
 * messages under the event's subject, so the subscription is what identifies the request.
 * This keeps the next events on their way while the last ones are processed. Requests carry
 * idle heartbeats; one that hears nothing for a few of them (the server restarted and
 * forgot it) is ended, and the consumer asks again.
 */
export class NatsPuller {
  readonly #link: NatsLink
  readonly #target: PullTarget
  readonly #inbox: string
  readonly #timeout: number
  readonly #heartbeat: number
  readonly #requests = new Map<string, Request>()
  /**
   * Subscriptions of requests ended on our side before the server ended them (on stop):
   * what still arrives on them goes to the latest accept, which gives it back.
   */
  readonly #lingering = new Set<Subscription>()
  #serial = 0
  #timer: NodeJS.Timeout | undefined
  #signal: AbortSignal | undefined
  /** The accept of the latest pull: a message for a request already ended goes there. */
  #lastAccept: Accept | undefined
  /**
   * When the last request ended on our side only (on stop, or taken for lost) expires: until
   * then the server may still send it messages. 0 when there is none.
   */
  abandonedUntil = 0

  constructor(link: NatsLink, target: PullTarget, timeout: number) {
    this.#link = link
    this.#target = target
    this.#inbox = link.createInbox()
    this.#timeout = timeout
    // At most half the expiry (the server's rule); often enough to notice a lost request soon.
    this.#heartbeat = Math.min(1000, Math.floor(timeout / 2))
  }

  /** Ask for up to `max` messages; see DeliverySource.pull. */
  pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    this.#watch(signal)
    this.#lastAccept = accept
    const token = String(++this.#serial)
    return new Promise<void>((resolve, reject) => {
      const expires = Date.now() + this.#timeout
      const body = `{"batch":${max},"expires":${this.#timeout * 1_000_000},"idle_heartbeat":${this.#heartbeat * 1_000_000}}`
      const reply = `${this.#inbox}.${token}`
      let subscription: Subscription
      try {
        subscription = this.#link.nc.subscribe(reply, {
          callback: (error, msg) => this.#onMessage(error, msg, token, subscription),
        })
        this.#link.nc.publish(this.#target.subject, body, { reply })
      } catch (error) {
        return reject(
          serviceUnavailable(EVENTS_ERROR_ID, `NATS failed asking for events: ${(error as Error).message}`),
        )
      }
      this.#requests.set(token, { remaining: max, accept, resolve, reject, expires, quiet: 0, subscription })
      this.#timer ??= setInterval(this.#check, this.#heartbeat).unref()
    })
  }

  /** End every request and stop listening (messages still on their way are not taken). */
  close(): void {
    this.#endAll()
    for (const subscription of this.#lingering) subscription.unsubscribe()
    this.#lingering.clear()
  }

  #watch(signal: AbortSignal): void {
    if (this.#signal === signal) return
    this.#signal = signal
    signal.addEventListener('abort', () => this.#endAll(), { once: true })
  }

  #onMessage(error: Error | null, msg: Msg, token: string, subscription: Subscription): void {
    if (error) {
      // The subscription itself failed (permissions): every request fails with it.
      this.#endAll(serviceUnavailable(EVENTS_ERROR_ID, `NATS failed delivering events: ${error.message}`))
      return
    }
    const request = this.#requests.get(token)
    if (!msg.reply) {
      this.#onStatus(msg, token, request, subscription)
      return
    }
    const delivery = this.#target.delivery(msg)
    if (!delivery) return
    if (!request) {
      this.#lastAccept?.(delivery)
      return
    }
    request.quiet = 0
    if (--request.remaining === 0) this.#end(token, subscription)
    request.accept(delivery)
    if (request.remaining === 0) request.resolve()
  }

  /** The server is done with a request: forget it and its subscription. */
  #end(token: string, subscription: Subscription): void {
    this.#requests.delete(token)
    subscription.unsubscribe()
    this.#lingering.delete(subscription)
  }

  #onStatus(msg: Msg, token: string, request: Request | undefined, subscription: Subscription): void {
    const code = msg.headers?.code ?? 0
    const description = msg.headers?.description ?? ''
    if (!request) {
      // A request ended on our side has now ended on the server's too.
      if (code !== 100) this.#end(token, subscription)
      return
    }
    if (code === 100) {
      request.quiet = 0
      return
    }
    this.#end(token, subscription)
    // 408: expired (or ended by the server), 404: nothing (no-wait), 409 Leadership Change.
    if (code === 408 || code === 404 || (code === 409 && /leadership/i.test(description))) {
      request.resolve()
      return
    }
    if (code === 503 || /consumer deleted/i.test(description)) this.#target.missing()
    const reason = `NATS refused a pull (${code} ${description})`
    // A bad request is a mistake that asking again will not fix; anything else may pass.
    request.reject(
      code === 400 ? conflict(EVENTS_ERROR_ID, reason) : serviceUnavailable(EVENTS_ERROR_ID, reason),
    )
  }

  /** End requests that the server has forgotten or that are long past their expiry. */
  readonly #check = (): void => {
    const now = Date.now()
    for (const [token, request] of this.#requests) {
      if (++request.quiet > QUIET_LIMIT || now > request.expires + 2 * this.#heartbeat) {
        // Forgotten by the server (or the connection is gone): nothing more comes for it.
        this.#end(token, request.subscription)
        this.#abandon(request)
        request.resolve()
      }
    }
    if (this.#requests.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  #abandon(request: Request): void {
    if (request.expires > this.abandonedUntil) this.abandonedUntil = request.expires
  }

  #endAll(error?: unknown): void {
    const requests = [...this.#requests.values()]
    this.#requests.clear()
    clearInterval(this.#timer)
    this.#timer = undefined
    for (const request of requests) {
      this.#abandon(request)
      this.#lingering.add(request.subscription)
      if (error === undefined) request.resolve()
      else request.reject(error)
    }
  }
}
