import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import { conflict, serviceUnavailable } from '../errors/errors.js'
import { EVENTS_ERROR_ID } from './names.js'
import { SettleBatch } from './settle-batch.js'

/** The body of a JetStream ack. */
export const ACK = Uint8Array.of(43, 65, 67, 75) // +ACK

/** How long a settlement waits for the server's confirmation by default, in ms. */
export const CONFIRM_TIMEOUT = 10_000

/** A settlement sent, waiting for the server to confirm it. */
interface Waiting {
  resolve: () => void
  reject: (error: unknown) => void
  /** When it gives up, ms since the epoch. */
  deadline: number
}

/** A settlement queued for the end of the turn. */
interface Queued {
  subject: string
  body: Uint8Array
  token: number
}

/**
 * Acks and naks that JetStream confirms (the "double ack"): each is published with a reply
 * subject `<inbox>.<n>`, and the server answers it once it has applied the ack to the
 * consumer (an empty message), or with a 503 status when the consumer is gone. So a
 * settlement resolves only once the server has it: a consumer killed right after gets
 * nothing back that it acknowledged. One wildcard subscription takes every answer; the
 * settlements of one turn go out together (SettleBatch), so the cost per event stays one
 * small publish and one small reply. An answer that does not come within `timeout` (the
 * connection was lost on the way) fails the settlement: the event may then come back.
 */
export class NatsAcks {
  readonly #nc: NatsConnection
  readonly #prefix: string
  readonly #timeout: number
  readonly #waiting = new Map<number, Waiting>()
  readonly #queue: SettleBatch<Queued>
  #subscription: Subscription | undefined
  #serial = 0
  #timer: NodeJS.Timeout | undefined
  /** Who waits in drain() for every answer to be in. */
  #drained: (() => void)[] = []

  constructor(nc: NatsConnection, inbox: string, timeout = CONFIRM_TIMEOUT) {
    this.#nc = nc
    this.#prefix = `${inbox}.`
    this.#timeout = timeout
    this.#queue = new SettleBatch((items) => this.#publish(items))
  }

  /** How many settlements wait for their confirmation (or for the end of the turn). */
  get waiting(): number {
    return this.#waiting.size
  }

  /** Send `body` to a delivery's ack subject; resolves once the server confirmed it. */
  send(subject: string, body: Uint8Array): Promise<void> {
    if (this.#nc.isClosed())
      return Promise.reject(
        serviceUnavailable(EVENTS_ERROR_ID, 'NATS failed acknowledging: the connection is closed'),
      )
    this.#subscription ??= this.#nc.subscribe(`${this.#prefix}*`, { callback: this.#onAnswer })
    const token = ++this.#serial
    const confirmed = new Promise<void>((resolve, reject) => {
      this.#waiting.set(token, { resolve, reject, deadline: Date.now() + this.#timeout })
    })
    this.#timer ??= setInterval(this.#expire, Math.min(1000, this.#timeout)).unref()
    void this.#queue.add({ subject, body, token })
    return confirmed
  }

  /** Send what is queued now. */
  flush(): Promise<void> {
    return this.#queue.flush()
  }

  /** Send what is queued and wait for the answers still due (each at most until its deadline). */
  async drain(): Promise<void> {
    await this.#queue.flush()
    if (this.#waiting.size === 0) return
    await new Promise<void>((resolve) => this.#drained.push(resolve))
  }

  /** Stop listening; settlements still waiting fail (the connection is going away). */
  close(): void {
    this.#subscription?.unsubscribe()
    this.#subscription = undefined
    this.#failAll(serviceUnavailable(EVENTS_ERROR_ID, 'NATS failed acknowledging: the connection closed'))
  }

  #publish(items: Queued[]): void {
    for (const { subject, body, token } of items) {
      try {
        this.#nc.publish(subject, body, { reply: `${this.#prefix}${token}` })
      } catch (error) {
        this.#answer(
          token,
          serviceUnavailable(EVENTS_ERROR_ID, `NATS failed acknowledging: ${(error as Error).message}`),
        )
      }
    }
  }

  readonly #onAnswer = (error: Error | null, msg: Msg): void => {
    if (error) {
      this.#failAll(serviceUnavailable(EVENTS_ERROR_ID, `NATS failed acknowledging: ${error.message}`))
      return
    }
    const token = Number(msg.subject.slice(this.#prefix.length))
    const code = msg.headers?.code ?? 0
    if (code === 0 || code === 200) this.#answer(token)
    else if (code === 503)
      this.#answer(
        token,
        conflict(EVENTS_ERROR_ID, 'NATS refused the acknowledgement: the consumer no longer exists'),
      )
    else
      this.#answer(
        token,
        serviceUnavailable(
          EVENTS_ERROR_ID,
          `NATS refused the acknowledgement (${code} ${msg.headers?.description ?? ''})`,
        ),
      )
  }

  #answer(token: number, error?: unknown): void {
    const waiting = this.#waiting.get(token)
    if (!waiting) return
    this.#waiting.delete(token)
    if (error === undefined) waiting.resolve()
    else waiting.reject(error)
    this.#idle()
  }

  readonly #expire = (): void => {
    const now = Date.now()
    for (const [token, waiting] of this.#waiting) {
      if (waiting.deadline > now) continue
      this.#answer(
        token,
        serviceUnavailable(
          EVENTS_ERROR_ID,
          `NATS did not confirm the acknowledgement within ${this.#timeout} ms: the event may be delivered again`,
        ),
      )
    }
  }

  #failAll(error: unknown): void {
    for (const token of [...this.#waiting.keys()]) this.#answer(token, error)
  }

  #idle(): void {
    if (this.#waiting.size > 0) return
    clearInterval(this.#timer)
    this.#timer = undefined
    const drained = this.#drained
    if (drained.length === 0) return
    this.#drained = []
    for (const resolve of drained) resolve()
  }
}
