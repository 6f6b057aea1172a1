import { MicroError, notFound } from '../errors/errors.js'
import type { Headers } from '../transport/frame.js'
import type { InboundCall } from '../transport/transport.js'
import { BrokerDelivery } from './delivery.js'
import { decodeEnvelope } from './envelope.js'
import type { LocalSubscription } from './subscription.js'

/** The transport endpoint deliveries of the default broker are sent to. */
export const DELIVER_ENDPOINT = 'Broker.Deliver'
/** Names the subscription (registry node id) a delivery is for. */
export const SUBSCRIPTION_HEADER = 'micro-subscription'
const EMPTY = new Uint8Array(0)

/**
 * The subscriber side of the default broker: take one delivery call for a subscription of
 * this process. It is answered once the message is queued for the handler, held while the
 * inbox is full (backpressure), and failed with a 404 when the subscription is gone, so the
 * publisher tries another member of the group.
 */
export function receive(call: InboundCall, subscriptions: ReadonlyMap<string, LocalSubscription>): void {
  const id = call.headers[SUBSCRIPTION_HEADER] ?? ''
  const sub = call.endpoint === DELIVER_ENDPOINT ? subscriptions.get(id) : undefined
  if (!sub?.active) {
    call.fail(notFound('micro.broker', `no subscription ${id} here`))
    return
  }
  let message: { headers: Headers; body: Uint8Array }
  try {
    message = decodeEnvelope(call.body)
  } catch (error) {
    call.fail(MicroError.from(error, 'micro.broker'))
    return
  }
  const delivery = new BrokerDelivery({
    topic: sub.topic,
    queue: sub.queue,
    headers: message.headers,
    // A copy: the received bytes may belong to a larger socket chunk.
    body: new Uint8Array(message.body),
  })
  void sub.inbox.whenRoom().then(() => {
    if (!sub.active) return call.fail(notFound('micro.broker', `subscription ${id} has ended`))
    sub.inbox.push(delivery)
    call.respond(EMPTY)
  })
}
