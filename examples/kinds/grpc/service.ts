/**
 * hello: a grpc service from a .proto file. `micro gen proto` made gen/ (message types,
 * the service descriptor, and the handler and client types).
 */
import { defineService } from 'micro-ts'
import { grpcHandler } from 'micro-ts/grpc'
import type { HelloHandler } from './gen/hello_micro.js'
import { Hello } from './gen/hello_pb.js'

export function hello(greeting: string): HelloHandler {
  return {
    async sayHello(req) {
      return { message: `${greeting} ${req.name}` }
    },
    async *count(req, ctx) {
      for (let n = 1; n <= req.upTo && !ctx.signal.aborted; n++) yield { n }
    },
  }
}

const service = defineService({
  grpc: ({ settings }) => grpcHandler(Hello, hello(String(settings.greeting ?? 'Hello'))),
})

export default service
service.runIfMain(import.meta)
