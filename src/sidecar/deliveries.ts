import { setTimeout as sleep } from 'node:timers/promises'
import type { Broker, Delivery, Subscription } from '../broker/broker.js'
import { MicroError } from '../errors/errors.js'
import type { Logger } from '../logger/logger.js'
import type { AppClient, AppResponse } from './app-client.js'
import { jsonBody } from './app-errors.js'
import { isJsonType, JSON_TYPE } from './codecs.js'
import type { AppSubscription } from './discovery.js'
import { addMetadataHeaders, headerSafe } from './headers.js'

/** What the app answered a delivery with (Dapr's statuses). */
export type DeliveryStatus = 'SUCCESS' | 'RETRY' | 'DROP'

/** What delivering messages to the app needs. */
export interface DeliveryDeps {
  service: string
  broker: () => Broker
  app: AppClient
  logger: Logger
  metadata: readonly string[]
  appToken: string | undefined
  /** Defaults of subscriptions that do not set their own. */
  concurrency: number
  timeout: number
}

/** How long a delivery waits before its RETRY when the app is not listening (it may be restarting). */
const DOWN_BACKOFF_MS = [100, 250, 500, 1000, 2000]

/**
 * The app's subscriptions: each one a broker subscription whose messages are POSTed to
 * the app's route. The app answers `{"status":"SUCCESS"|"RETRY"|"DROP"}` (a 2xx without a
 * status is SUCCESS). SUCCESS acks; RETRY (also any non-2xx, a timeout, or the app not
 * answering) nacks, so the message comes again up to the subscription's retry limit and
 * then goes to its dead-letter topic; DROP sends it to the dead-letter topic at once (or
 * drops it with a log line when the subscription has none). Each subscription has at most
 * `concurrency` deliveries in flight, each bounded by `timeout`: a route that never answers
 * holds its own slots for that long and no one else's.
 */
export class Deliveries {
  readonly #deps: DeliveryDeps
  readonly #active: Subscription[] = []
  /** Aborted when stopping: deliveries waiting to retry a down app give up. */
  readonly #stopping = new AbortController()
  /** Aborted when a stop's grace has passed: requests still at the app are abandoned. */
  readonly #cut = new AbortController()
  readonly #inFlight = new Set<Promise<void>>()
  /** Deliveries at the app right now, per subscription. */
  readonly #busy = new Map<AppSubscription, number>()
  /** Deliveries answered, by status, for `/v1/metadata`. */
  readonly counts: Record<DeliveryStatus, number> = { SUCCESS: 0, RETRY: 0, DROP: 0 }

  constructor(deps: DeliveryDeps) {
    this.#deps = deps
  }

  /** Subscribe to every topic; if one is refused, the ones made are undone and the error thrown. */
  async start(subscriptions: readonly AppSubscription[]): Promise<void> {
    try {
      for (const sub of subscriptions) {
        const subscription = await this.#deps.broker().subscribe(sub.topic, (d) => this.#track(sub, d), {
          queue: sub.queue,
          autoAck: false,
          concurrency: sub.concurrency ?? this.#deps.concurrency,
          retryLimit: sub.retryLimit,
          deadLetter: sub.deadLetter,
        })
        this.#active.push(subscription)
      }
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  /**
   * Unsubscribe everything (messages not yet handed over go back where the engine can take
   * them), then wait up to `graceMs` for deliveries at the app to be answered; those still
   * running after that are abandoned (and so redelivered or dead-lettered by the broker).
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping.abort()
    const active = this.#active.splice(0)
    await Promise.allSettled(active.map((s) => s.unsubscribe()))
    if (this.#inFlight.size > 0) {
      const grace = new AbortController()
      await Promise.race([
        Promise.allSettled([...this.#inFlight]),
        sleep(graceMs, undefined, { signal: grace.signal }).catch(() => {}),
      ])
      grace.abort()
    }
    this.#cut.abort()
  }

  /** Deliveries at the app right now (of one subscription, when given). */
  inFlight(sub?: AppSubscription): number {
    return sub === undefined ? this.#inFlight.size : (this.#busy.get(sub) ?? 0)
  }

  #track(sub: AppSubscription, delivery: Delivery): Promise<void> {
    this.#busy.set(sub, (this.#busy.get(sub) ?? 0) + 1)
    const running = this.#deliver(sub, delivery).finally(() => {
      this.#inFlight.delete(running)
      this.#busy.set(sub, (this.#busy.get(sub) ?? 1) - 1)
    })
    this.#inFlight.add(running)
    return running
  }

  async #deliver(sub: AppSubscription, delivery: Delivery): Promise<void> {
    let status: DeliveryStatus
    let reason: string
    try {
      const response = await this.#deps.app.send({
        method: 'POST',
        path: sub.route,
        headers: this.#headers(sub, delivery),
        body: sub.envelope === 'cloudevent' ? cloudEvent(delivery, this.#deps.service) : delivery.body,
        timeout: sub.timeout ?? this.#deps.timeout,
        signal: this.#cut.signal,
      })
      ;[status, reason] = statusOf(response)
    } catch (error) {
      const e = MicroError.from(error)
      status = 'RETRY'
      reason = e.detail
      if (e.code === 503) await this.#backOff(delivery.attempt)
    }
    this.counts[status]++
    if (status === 'SUCCESS') return delivery.ack()
    this.#deps.logger.warn(`delivery to the app answered ${status}`, {
      topic: delivery.topic,
      id: delivery.id,
      attempt: delivery.attempt,
      route: sub.route,
      reason,
    })
    return delivery.nack(status === 'DROP' ? { requeue: false } : undefined)
  }

  #headers(sub: AppSubscription, delivery: Delivery): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type':
        sub.envelope === 'cloudevent'
          ? 'application/cloudevents+json'
          : (delivery.headers['content-type'] ?? JSON_TYPE),
      'micro-topic': headerSafe(delivery.topic),
      'micro-id': headerSafe(delivery.id),
      'micro-attempt': String(delivery.attempt),
    }
    if (delivery.queue) headers['micro-queue'] = headerSafe(delivery.queue)
    const caller = delivery.headers['micro-caller']
    if (caller) headers['micro-caller'] = headerSafe(caller)
    addMetadataHeaders(headers, delivery.headers, this.#deps.metadata)
    if (this.#deps.appToken) headers['micro-api-token'] = this.#deps.appToken
    return headers
  }

  async #backOff(attempt: number): Promise<void> {
    const ms = DOWN_BACKOFF_MS[Math.min(attempt, DOWN_BACKOFF_MS.length) - 1] ?? 100
    await sleep(ms, undefined, { signal: this.#stopping.signal }).catch(() => {})
  }
}

/** The app's answer as a status and the reason to log: Dapr's rules, non-2xx being RETRY. */
export function statusOf(response: AppResponse): [DeliveryStatus, string] {
  if (response.status < 200 || response.status > 299) {
    const text = response.body.toString('utf8', 0, Math.min(response.body.length, 200))
    return ['RETRY', `HTTP ${response.status}${text ? `: ${text}` : ''}`]
  }
  const body = jsonBody(response) as { status?: unknown } | undefined
  const status = typeof body?.status === 'string' ? body.status.toUpperCase() : undefined
  if (status === undefined || status === '' || status === 'SUCCESS') return ['SUCCESS', '']
  if (status === 'RETRY' || status === 'DROP') return [status, `the app answered ${status}`]
  return ['RETRY', `the app answered an unknown status ${JSON.stringify(body?.status).slice(0, 40)}`]
}

/** A CloudEvents 1.0 structured envelope around a message (JSON data inline, other bytes as base64). */
export function cloudEvent(delivery: Delivery, service: string): Uint8Array {
  const type = delivery.headers['content-type'] ?? JSON_TYPE
  const event: Record<string, unknown> = {
    specversion: '1.0',
    id: delivery.id,
    source: delivery.headers['micro-caller'] ?? service,
    type: 'micro.message',
    topic: delivery.topic,
    datacontenttype: type,
  }
  const traceparent = delivery.headers.traceparent
  if (traceparent) event.traceparent = traceparent
  let data: unknown
  let parsed = false
  if (isJsonType(type)) {
    try {
      data = delivery.body.byteLength === 0 ? null : JSON.parse(Buffer.from(delivery.body).toString('utf8'))
      parsed = true
    } catch {
      parsed = false
    }
  }
  if (parsed) event.data = data
  else event.data_base64 = Buffer.from(delivery.body).toString('base64')
  return Buffer.from(JSON.stringify(event))
}
