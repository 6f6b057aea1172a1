import type { Broker } from '../../broker/broker.js'
import type { Spans } from './spans.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

/**
 * The broker handlers get, traced: a publish runs in a producer span and carries its
 * `traceparent` (and `tracestate`) in the message headers; each delivery runs in a
 * consumer span continuing the publisher's context.
 */
export function tracingBroker(spans: Spans): (broker: Broker) => Broker {
  return (broker) => ({
    get name() {
      return broker.name
    },
    connect: () => broker.connect(),
    close: () => broker.close(),
    publish(topic, message) {
      const active = spans.start(`publish ${topic}`, 'producer', undefined, {
        'messaging.destination.name': topic,
      })
      const headers: Record<string, string> = {
        ...message.headers,
        traceparent: formatTraceparent(active.trace),
      }
      if (active.trace.state) headers.tracestate = active.trace.state
      return spans.within(active, () => broker.publish(topic, { ...message, headers }))
    },
    subscribe(topic, handler, options) {
      return broker.subscribe(
        topic,
        (delivery) => {
          const parent = parseTraceparent(delivery.headers.traceparent, delivery.headers.tracestate)
          const active = spans.start(`deliver ${topic}`, 'consumer', parent, {
            'messaging.destination.name': topic,
          })
          return spans.within(active, () => handler(delivery))
        },
        options,
      )
    },
  })
}
