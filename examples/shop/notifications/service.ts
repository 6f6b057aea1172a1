/**
 * notifications: emails customers how their order went. The worker follows the `orders`
 * topic as group `notifications` with manual acks, and "sends" an email for each
 * confirmed or failed order: it logs it and keeps a record in the store, once per order
 * and type (an event may come more than once). An event it cannot handle is retried
 * RETRIES times, RETRY_DELAY apart, then goes to the dead letters (`orders.dead`), where
 * the dashboard shows it and can replay it.
 *
 * The mail provider is simulated: Notifications.SetMailerDown makes it refuse mail, as a
 * real one does during an outage.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { defineService, errors, type Logger, type Store, StoreNotFoundError } from 'micro-ts'
import type { OrderEvent } from '../orders/service.js'

/** An email sent, as the store keeps it. */
export interface Notification {
  orderId: string
  type: string
  to: string
  subject: string
  /** The event it was sent for. */
  eventId: string
  sentAt: string
}

const ID = 'notifications'
const TOPIC = 'orders'
const SENT = 'sent:'
const MAILER_DOWN = 'mailer-down'

export class Notifications {
  readonly #store: Store

  constructor(store: Store) {
    this.#store = store
  }

  /** Notifications.List: the emails sent, oldest first; only one order's with `orderId`. */
  async List(req: { orderId?: string } = {}) {
    if (req?.orderId !== undefined && typeof req.orderId !== 'string')
      throw errors.badRequest(ID, 'orderId must be a string')
    const records = await this.#store.read<Notification>({
      prefix: SENT + (req?.orderId ? `${req.orderId}:` : ''),
    })
    const sent = records.map((r) => r.value).sort((a, b) => a.sentAt.localeCompare(b.sentAt))
    return { notifications: sent }
  }

  /** Notifications.SetMailerDown: simulate an outage of the mail provider (`down: true`), or end it. */
  async SetMailerDown(req: { down: boolean }) {
    if (typeof req?.down !== 'boolean') throw errors.badRequest(ID, 'down must be true or false')
    if (req.down) await this.#store.write(MAILER_DOWN, { since: new Date().toISOString() })
    else await this.#store.delete(MAILER_DOWN)
    return { down: req.down }
  }
}

/** Send the email an order event calls for, once; throws when it cannot. */
async function notify(store: Store, logger: Logger, payload: unknown, eventId: string): Promise<void> {
  const event = checkEvent(payload)
  const subject = subjectOf(event)
  if (subject === undefined) return // a step the customer is not told about
  const key = `${SENT}${event.order.id}:${event.type}`
  if (await exists(store, key)) return // sent already: this event came again
  if (await exists(store, MAILER_DOWN)) throw new Error('the mail provider is down')
  const sent: Notification = {
    orderId: event.order.id,
    type: event.type,
    to: event.order.email,
    subject,
    eventId,
    sentAt: new Date().toISOString(),
  }
  await store.write(key, sent)
  logger.info('email sent', { order: sent.orderId, subject })
}

function subjectOf({ type, order }: OrderEvent): string | undefined {
  const total = `${(order.total / 100).toFixed(2)}`
  if (type === 'order.confirmed') return `Your order ${order.id} is confirmed (${total})`
  if (type === 'order.failed')
    return `Your order ${order.id} could not be placed: ${order.reason ?? 'unknown reason'}`
  return undefined
}

function checkEvent(payload: unknown): OrderEvent {
  const event = payload as Partial<OrderEvent> | undefined
  const order = event?.order
  if (typeof event?.type !== 'string' || typeof order?.id !== 'string' || typeof order.email !== 'string')
    throw new Error('not an order event: needs type, order.id and order.email')
  return event as OrderEvent
}

async function exists(store: Store, key: string): Promise<boolean> {
  try {
    await store.read(key)
    return true
  } catch (error) {
    if (error instanceof StoreNotFoundError) return false
    throw error
  }
}

const service = defineService({
  env: {
    RETRIES: { type: 'int', default: 3 },
    RETRY_DELAY: { type: 'duration', default: 500 },
  },
  rpc: ({ store }) => new Notifications(store),
  worker: ({ env, events, store, logger }) => ({
    async start(signal: AbortSignal) {
      // offset 0: the group, made on the first start, begins with the first order ever placed.
      const consumer = events.consume(TOPIC, {
        group: ID,
        offset: 0,
        ack: 'manual',
        retryLimit: env.RETRIES,
        signal,
      })
      for await (const event of consumer) {
        try {
          await notify(store, logger, event.payload, event.id)
          await event.ack()
        } catch (error) {
          const reason = (error as Error).message
          const last = event.attempt > env.RETRIES
          logger.warn(last ? 'giving up: to the dead letters' : 'will retry', {
            event: event.id,
            attempt: event.attempt,
            reason,
          })
          // One event at a time: a short pause before the retry, so an outage is not hammered.
          if (!last) await sleep(env.RETRY_DELAY, undefined, { signal }).catch(() => {})
          if (signal.aborted) break // unsettled, it goes back to the group
          await event.nack(reason)
        }
      }
    },
  }),
})

export default service
service.runIfMain(import.meta)
