/**
 * pubsub subscriber: prints every order published on `orders.created`, one JSON line each.
 * Start several with PUBSUB_QUEUE=workers and they share the orders (each order to one of
 * them); without a queue each subscriber gets every order. Then run the publisher.
 *
 *   node build/examples/pubsub/subscriber.js
 *   PUBSUB_QUEUE=workers node build/examples/pubsub/subscriber.js
 */
import { createService } from 'micro-ts'

interface Order {
  id: number
  item: string
}

const queue = process.env.PUBSUB_QUEUE || undefined
const service = createService({ name: 'pubsub-subscriber' })

service.subscribe(
  'orders.created',
  async (order: Order, ctx) => {
    console.log(
      JSON.stringify({
        received: order,
        id: ctx.id,
        topic: ctx.topic,
        caller: ctx.metadata['micro-caller'],
        traceparent: ctx.metadata.traceparent,
      }),
    )
  },
  { queue },
)

await service.run()
console.log(`subscribed to orders.created${queue ? ` in queue group ${queue}` : ''} (Ctrl-C to stop)`)
