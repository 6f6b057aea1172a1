import type { ClientStream } from '../client/client-stream.js'
import type { PlatformLink } from '../engines/platform.js'
import { MicroError, serviceUnavailable } from '../errors/errors.js'
import {
  type ConsumeInput,
  type ConsumeOutput,
  fromWireEvent,
  type SettleHow,
} from '../platform/services/events-wire.js'
import { wireRetryLimit } from '../platform/services/wire.js'
import { GroupLostError } from './loss.js'
import { EVENTS_ERROR_ID } from './names.js'
import type { ConsumePlan } from './options.js'
import type { Accept, Delivery, DeliverySource } from './source.js'

/** How long closing waits for the platform to settle what was given back, ms. */
const CLOSE_WAIT = 5000

/**
 * A consumer's engine side on a platform: a stream to `Events.Consume`, which drives a
 * consumer of the server's engine. The consumer loop (consumer.ts) runs here, so acks,
 * retries, dead letters and give-backs behave as on that engine. A broken stream fails the
 * pulls and settlements in flight with a 503; the next pull opens a new stream and joins the
 * group again (what was delivered and not settled comes back after ackWait).
 */
export class RemoteSource implements DeliverySource {
  overlap = 1
  readonly #link: () => PlatformLink
  readonly #plan: ConsumePlan
  readonly #request: Record<string, unknown>
  #session: Promise<ConsumeStream> | undefined
  #closed = false

  constructor(link: () => PlatformLink, plan: ConsumePlan) {
    this.#link = link
    this.#plan = plan
    this.#request = {
      namespace: plan.namespace,
      topic: plan.topic,
      group: plan.group,
      private: plan.private,
      offset: plan.offset instanceof Date ? plan.offset.toISOString() : plan.offset,
      ackWait: plan.ackWait,
      retryLimit: wireRetryLimit(plan.maxAttempts - 1),
      deadLetter: plan.deadLetter,
      maxInFlight: plan.maxInFlight,
    }
  }

  async start(): Promise<void> {
    await this.#stream()
  }

  async pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    const stream = await this.#stream()
    await stream.pull(max, signal, accept)
  }

  async close(): Promise<void> {
    this.#closed = true
    const session = await this.#session?.catch(() => undefined)
    await session?.finish(CLOSE_WAIT)
  }

  /** The open stream, or a new one when there is none or it broke. */
  #stream(): Promise<ConsumeStream> {
    if (this.#closed) return Promise.reject(serviceUnavailable(EVENTS_ERROR_ID, 'the consumer has stopped'))
    const current = this.#session
    if (current) {
      return current.then(
        (stream) => (stream.broken ? this.#open() : stream),
        () => this.#open(),
      )
    }
    return this.#open()
  }

  #open(): Promise<ConsumeStream> {
    const opening = (async () => {
      const stream = new ConsumeStream(this.#link().stream('Events.Consume'), this.#plan)
      this.overlap = await stream.start(this.#request)
      return stream
    })()
    this.#session = opening
    opening.catch(() => {
      if (this.#session === opening) this.#session = undefined
    })
    return opening
  }
}

interface PendingPull {
  accept: Accept
  done: () => void
  failed: (error: unknown) => void
}

interface PendingSettle {
  resolve: () => void
  reject: (error: unknown) => void
}

/** One `Events.Consume` stream: pulls and settlements out, deliveries and answers in. */
class ConsumeStream {
  readonly #stream: ClientStream<unknown, ConsumeOutput>
  readonly #iterator: AsyncIterator<ConsumeOutput>
  readonly #plan: ConsumePlan
  readonly #pulls = new Map<number, PendingPull>()
  readonly #settles = new Map<number, PendingSettle>()
  #nextPull = 0
  #broken: MicroError | undefined
  #reading: Promise<void> | undefined

  constructor(stream: ClientStream<unknown, ConsumeOutput>, plan: ConsumePlan) {
    this.#stream = stream
    this.#iterator = stream[Symbol.asyncIterator]()
    this.#plan = plan
  }

  get broken(): boolean {
    return this.#broken !== undefined
  }

  /** Send the consume request; resolves with the overlap once the group exists. */
  async start(request: Record<string, unknown>): Promise<number> {
    await this.#stream.send(request)
    const first = await this.#iterator.next()
    if (first.done || !('started' in first.value))
      throw serviceUnavailable(EVENTS_ERROR_ID, 'the platform ended the consumer before it started')
    this.#reading = this.#read()
    return Math.max(1, first.value.overlap)
  }

  pull(max: number, signal: AbortSignal, accept: Accept): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken)
    // The consumer may ask while it stops: a pull already over asks the platform nothing.
    if (signal.aborted) return Promise.resolve()
    const id = ++this.#nextPull
    return new Promise<void>((resolve, reject) => {
      // Sent after the pull itself, so the platform always sees the pull first.
      const onAbort = () => void this.#send({ abort: id }).catch(() => {})
      const finish = () => signal.removeEventListener('abort', onAbort)
      this.#pulls.set(id, {
        accept,
        done: () => {
          finish()
          resolve()
        },
        failed: (error) => {
          finish()
          reject(error)
        },
      })
      this.#send({ pull: id, max }).catch((error: unknown) => {
        this.#pulls.delete(id)
        finish()
        reject(MicroError.from(error, EVENTS_ERROR_ID))
      })
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Half-close and wait (up to `ms`) for the platform to finish the settlements and end. */
  async finish(ms: number): Promise<void> {
    if (!this.#broken) await this.#stream.closeSend().catch(() => {})
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.#reading, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
    clearTimeout(timer)
    this.#stream.cancel('the consumer stopped')
  }

  #settle(tag: number, how: SettleHow, reason?: string, undecodable?: boolean): Promise<void> {
    if (this.#broken) return Promise.reject(this.#broken)
    return new Promise<void>((resolve, reject) => {
      this.#settles.set(tag, { resolve, reject })
      this.#send({ tag, settle: how, reason, undecodable }).catch((error: unknown) => {
        this.#settles.delete(tag)
        reject(MicroError.from(error, EVENTS_ERROR_ID))
      })
    })
  }

  #send(message: ConsumeInput): Promise<void> {
    return this.#stream.send(message)
  }

  async #read(): Promise<void> {
    let reason: unknown
    try {
      for (;;) {
        const next = await this.#iterator.next()
        if (next.done) break
        this.#take(next.value)
      }
      reason = serviceUnavailable(EVENTS_ERROR_ID, 'the platform ended the consumer')
    } catch (error) {
      reason = error
    }
    const broken = MicroError.from(reason, EVENTS_ERROR_ID)
    this.#broken = broken.code < 500 ? broken : serviceUnavailable(EVENTS_ERROR_ID, broken.detail)
    for (const pull of this.#pulls.values()) pull.failed(this.#broken)
    for (const settle of this.#settles.values()) settle.reject(this.#broken)
    this.#pulls.clear()
    this.#settles.clear()
  }

  #take(message: ConsumeOutput): void {
    if ('loss' in message) {
      this.#plan.onLoss?.(new GroupLostError(`the platform's ${message.engine}`, message.loss))
      return
    }
    if ('pull' in message) {
      const pull = this.#pulls.get(message.pull)
      if ('ended' in message) {
        this.#pulls.delete(message.pull)
        if (message.error) pull?.failed(MicroError.from(message.error, EVENTS_ERROR_ID))
        else pull?.done()
        return
      }
      const delivery = this.#delivery(message.tag, message.attempt, fromWireEvent(message.event))
      // A pull already over (aborted) still hands what arrives to accept: it gives it back.
      if (pull) pull.accept(delivery)
      else void delivery.release().catch(() => {})
      return
    }
    if ('tag' in message) {
      const settle = this.#settles.get(message.tag)
      this.#settles.delete(message.tag)
      if ('error' in message) settle?.reject(MicroError.from(message.error, EVENTS_ERROR_ID))
      else settle?.resolve()
    }
  }

  #delivery(tag: number, attempt: number, event: Delivery['event']): Delivery {
    return {
      event,
      attempt,
      ack: () => this.#settle(tag, 'ack'),
      nack: () => this.#settle(tag, 'nack'),
      release: () => this.#settle(tag, 'release'),
      deadLetter: (reason, undecodable) => this.#settle(tag, 'deadLetter', reason, undecodable),
    }
  }
}
