import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { fromBinary, toBinary } from '@bufbuild/protobuf'
import * as grpc from '@grpc/grpc-js'
import { testService } from '../../testing/harness.js'
import { grpcHandler } from '../../transport/grpc/handler.js'
import {
  Greeter,
  HelloReplySchema,
  HelloRequestSchema,
} from '../../transport/grpc/testdata/gen/greeter_pb.js'
import { testGreeter } from '../../transport/grpc/testdata/greeter.js'
import { defineService } from '../define.js'

class Plain {
  async Ping() {
    return { pong: true }
  }
}

const hello = defineService({ grpc: () => [grpcHandler(Greeter, testGreeter()), new Plain()] })
const config = {
  name: 'hello',
  version: 'v1.0.0',
  types: ['grpc'],
  runtime: { grpc: { max_message_size: '64kb', max_concurrent_streams: 50 } },
}

describe('the grpc kind', () => {
  test('serves protobuf services and plain handlers over gRPC, and in-process calls alike', async () => {
    await using t = await testService(hello, { config })
    assert.deepEqual(await t.call('Greeter.SayHello', { name: 'in-process' }), {
      message: 'Hello in-process',
      count: '1',
    })
    assert.deepEqual(await t.call('Plain.Ping', {}), { pong: true })
    const address = t.address('grpc')
    assert.match(address ?? '', /^127\.0\.0\.1:\d+$/)
    const client = new grpc.Client(address as string, grpc.credentials.createInsecure())
    try {
      const reply = await new Promise((resolve, reject) =>
        client.makeUnaryRequest(
          '/helloworld.v1.Greeter/SayHello',
          (m: object) => Buffer.from(toBinary(HelloRequestSchema, m as never)),
          (b: Buffer) => fromBinary(HelloReplySchema, b),
          { $typeName: 'helloworld.v1.HelloRequest', name: 'grpc', count: 0n, mood: 0 },
          (e, v) => (e ? reject(e) : resolve(v)),
        ),
      )
      assert.equal((reply as { message: string }).message, 'Hello grpc')
      // A message over [runtime.grpc] max_message_size is RESOURCE_EXHAUSTED.
      await assert.rejects(
        new Promise((resolve, reject) =>
          client.makeUnaryRequest(
            '/helloworld.v1.Greeter/SayHello',
            (m: object) => Buffer.from(toBinary(HelloRequestSchema, m as never)),
            (b: Buffer) => b,
            { $typeName: 'helloworld.v1.HelloRequest', name: 'x'.repeat(70_000), count: 0n, mood: 0 },
            (e, v) => (e ? reject(e) : resolve(v)),
          ),
        ),
        (e: { code?: number }) => e.code === grpc.status.RESOURCE_EXHAUSTED,
      )
    } finally {
      client.close()
    }
  })

  test('the factory must return handlers', async () => {
    const bad = defineService({ grpc: () => ({ not: 'a handler' }) })
    await assert.rejects(testService(bad, { config }), /the grpc factory must return grpcHandler/)
  })
})
