import { badRequest, MicroError, notFound } from '../errors/errors.js'
import type { InboundCall } from '../transport/transport.js'
import { BATCH_HEADER, BATCH_VERSION, decodeBatch } from './batch.js'
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
 * this process: a batch (`micro-batch: 1`, batch.ts) or, from older publishers, one
 * envelope. It is answered once the messages are queued for the handler, held while the
 * inbox is full (backpressure), and failed with a 404 when the subscription is gone, so the
 * publisher tries another member of the group. A malformed body is a 400 and nothing of it
 * is delivered.
 */
export function receive(call: InboundCall, subscriptions: ReadonlyMap<string, LocalSubscription>): void {
  const id = call.headers[SUBSCRIPTION_HEADER] ?? ''
  const sub = call.endpoint === DELIVER_ENDPOINT ? subscriptions.get(id) : undefined
  if (!sub?.active) {
    call.fail(notFound('micro.broker', `no subscription ${id} here`))
    return
  }
  let deliveries: BrokerDelivery[]
  try {
    const version = call.headers[BATCH_HEADER]
    if (version === undefined) deliveries = [fromEnvelope(sub, call.body)]
    else if (version === BATCH_VERSION) deliveries = fromBatch(sub, call.body)
    else throw badRequest('micro.broker', `unsupported broker batch version ${version}`)
  } catch (error) {
    call.fail(MicroError.from(error, 'micro.broker'))
    return
  }
  queue(sub, deliveries).then(
    () => call.respond(EMPTY),
    (error: unknown) => call.fail(MicroError.from(error, 'micro.broker')),
  )
}

/** Deliver a batch to a subscription of this process; resolves once it is queued. */
export function acceptBatch(sub: LocalSubscription, batch: Uint8Array): Promise<void> {
  let deliveries: BrokerDelivery[]
  try {
    deliveries = fromBatch(sub, batch)
  } catch (error) {
    return Promise.reject(error)
  }
  return queue(sub, deliveries)
}

/** Queue deliveries once the inbox has room; a 404 when the subscription ended meanwhile. */
function queue(sub: LocalSubscription, deliveries: BrokerDelivery[]): Promise<void> {
  return sub.inbox.whenRoom().then(() => {
    if (!sub.active) throw notFound('micro.broker', `subscription of ${sub.topic} has ended`)
    for (const delivery of deliveries) sub.inbox.push(delivery)
  })
}

function fromBatch(sub: LocalSubscription, batch: Uint8Array): BrokerDelivery[] {
  return decodeBatch(
    batch,
    (headers, body) => new BrokerDelivery({ topic: sub.topic, queue: sub.queue, headers, body }),
  )
}

function fromEnvelope(sub: LocalSubscription, bytes: Uint8Array): BrokerDelivery {
  const message = decodeEnvelope(bytes)
  return new BrokerDelivery({
    topic: sub.topic,
    queue: sub.queue,
    headers: message.headers,
    // A copy: the received bytes may belong to a larger socket chunk.
    body: new Uint8Array(message.body),
  })
}
