import type { Broker } from '../../broker/broker.js'
import type { Spans } from './spans.js'
import { formatTraceparent, parseTraceparent } from './traceparent.js'

/**
 * The broker handlers get, traced: a publish runs in a producer span (`publish <topic>`) and
 * carries its `traceparent` (and `tracestate`) in the message headers; each delivery runs
 * in a consumer span (`process <topic>`), a child of the publisher's, so a trace shows a
 * publish and every consume under it. Attributes follow the messaging conventions.
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
        'messaging.system': broker.name,
        'messaging.operation.name': 'publish',
        'messaging.operation.type': 'send',
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
          const attributes: Record<string, string | number> = {
            'messaging.system': broker.name,
            'messaging.operation.name': 'process',
            'messaging.operation.type': 'process',
            'messaging.destination.name': topic,
            'messaging.message.id': delivery.id,
          }
          if (delivery.queue) attributes['messaging.consumer.group.name'] = delivery.queue
          if (delivery.attempt > 1) attributes['micro.delivery.attempt'] = delivery.attempt
          const active = spans.start(`process ${topic}`, 'consumer', parent, attributes)
          return spans.within(active, () => handler(delivery))
        },
        options,
      )
    },
  })
}
