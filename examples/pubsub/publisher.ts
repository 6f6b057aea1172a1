/**
 * pubsub publisher: publishes PUBSUB_COUNT orders (default 5) on `orders.created`, then
 * exits. Start a subscriber first; with the default broker it is found in the registry and
 * the orders go to it directly, no message server needed (MICRO_BROKER=nats and friends
 * switch to a server without changing this code).
 *
 *   node build/examples/pubsub/publisher.js
 */
import { createService } from 'micro-ts'

const count = Number(process.env.PUBSUB_COUNT ?? 5)
// A W3C trace context, as a traced caller would send: subscribers see it in ctx.metadata.
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

const service = createService({ name: 'pubsub-publisher', handleSignals: false })
await service.run()
for (let id = 1; id <= count; id++) {
  await service.client.publish('orders.created', { id, item: `book ${id}` }, { metadata: { traceparent } })
}
console.log(`published ${count} orders to orders.created`)
await service.stop()
