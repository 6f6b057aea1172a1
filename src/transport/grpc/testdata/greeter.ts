import { create } from '@bufbuild/protobuf'
import { newError } from '../../../errors/errors.js'
import type { Context } from '../../../server/context.js'
import type { GrpcHandler } from '../handler.js'
import { type Greeter, HelloReplySchema, type HelloRequest } from './gen/greeter_pb.js'

/** What the test greeter saw: calls by method, and the contexts of Wait calls. */
export interface GreeterLog {
  calls: Record<string, number>
  waits: Context[]
  metadata: Record<string, string>[]
}

/** The Greeter of greeter.proto as the tests and the bench serve it. */
export function testGreeter(
  log: GreeterLog = { calls: {}, waits: [], metadata: [] },
): GrpcHandler<typeof Greeter> {
  const count = (name: string, ctx: Context) => {
    log.calls[name] = (log.calls[name] ?? 0) + 1
    log.metadata.push({ ...ctx.metadata })
  }
  return {
    sayHello(req: HelloRequest, ctx: Context) {
      count('SayHello', ctx)
      if (req.name.startsWith('fail:'))
        throw newError('greeter', `asked to fail with ${req.name}`, Number(req.name.slice(5)))
      if (req.name === 'throw') throw new Error('a plain error')
      return { message: `Hello ${req.name}`, count: req.count + 1n, mood: req.mood }
    },
    async wait(_req: HelloRequest, ctx: Context) {
      count('Wait', ctx)
      log.waits.push(ctx)
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
      return { message: 'never sent' }
    },
    async *lots(req: HelloRequest, ctx: Context) {
      count('Lots', ctx)
      for (let i = 0n; i < req.count; i++) yield { message: `${req.name} ${i}`, count: i }
    },
    async gather(requests: AsyncIterable<HelloRequest>, ctx: Context) {
      count('Gather', ctx)
      const names: string[] = []
      for await (const req of requests) names.push(req.name)
      return create(HelloReplySchema, { message: names.join(','), count: BigInt(names.length) })
    },
    async *chat(requests: AsyncIterable<HelloRequest>, ctx: Context) {
      count('Chat', ctx)
      for await (const req of requests) yield { message: `Hi ${req.name}` }
    },
  }
}
