/**
 * helloworld: the smallest micro-ts service. Run it with `npm start`, then call it with
 * curl, `npx micro call`, or from another service's client.
 */
import { type Context, createService } from 'micro-ts'

export class Greeter {
  /** Greeter.Hello: one request, one reply. */
  async Hello(req: { name?: string }, ctx: Context) {
    const caller = ctx.metadata['micro-caller'] ?? ctx.protocol
    return { message: `Hello ${req.name ?? 'stranger'}`, from: caller === 'micro.cli' ? 'the CLI' : caller }
  }

  /** Greeter.Chat: a bidirectional stream; one reply per message. */
  async *Chat(input: AsyncIterable<{ name: string }>) {
    for await (const req of input) yield { message: `Hello ${req.name}` }
  }
}

const service = createService({ name: 'greeter', version: '1.0.0' })
service.handle(new Greeter())
await service.run()

const onTcp = /:\d+$/.test(service.address ?? '')
console.log(`greeter ${service.version} is serving on ${service.address} (Ctrl-C to stop)`)
if (onTcp) {
  console.log(`
Try it:
  curl -XPOST -H 'Content-Type: application/json' -H 'Micro-Endpoint: Greeter.Hello' \\
       -d '{"name":"Alice"}' http://${service.address}
  npx micro call greeter Greeter.Hello '{"name":"Alice"}'
  npx micro services
`)
}
