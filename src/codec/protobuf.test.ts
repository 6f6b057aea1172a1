import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { create, isMessage, toBinary } from '@bufbuild/protobuf'
import { MemoryBroker } from '../broker/memory.js'
import { publish } from '../broker/publish.js'
import { subscribe } from '../broker/subscriber.js'
import { MemoryEvents } from '../events/memory.js'
import {
  HelloReplySchema,
  type HelloRequest,
  HelloRequestSchema,
  Mood,
} from '../transport/grpc/testdata/gen/greeter_pb.js'
import { protobufCodec, protobufJsonCodec } from './protobuf.js'

const waitFor = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

// The Codec conformance suite round-trips arbitrary JSON-like values; a protobuf codec
// carries messages of one type only, so its behaviour is checked here instead.
describe('protobuf codecs', () => {
  const codec = protobufCodec(HelloRequestSchema)

  test('binary round trip: messages and plain objects with the fields', () => {
    const message = create(HelloRequestSchema, { name: 'Alice', count: 2n ** 60n, mood: Mood.GRUMPY })
    const decoded = codec.decode(codec.encode(message)) as HelloRequest
    assert.ok(isMessage(decoded, HelloRequestSchema))
    assert.deepEqual([decoded.name, decoded.count, decoded.mood], ['Alice', 2n ** 60n, Mood.GRUMPY])
    assert.equal((codec.decode(codec.encode({ name: 'plain' })) as HelloRequest).name, 'plain')
    assert.equal(codec.contentType, 'application/protobuf')
  })

  test('a method codec encodes one type and decodes the other', () => {
    const client = protobufCodec(HelloRequestSchema, HelloReplySchema)
    const server = protobufCodec(HelloReplySchema, HelloRequestSchema)
    const request = server.decode(client.encode({ name: 'x' }))
    assert.ok(isMessage(request, HelloRequestSchema))
    const reply = client.decode(server.encode({ message: 'y' }))
    assert.ok(isMessage(reply, HelloReplySchema))
  })

  test('bad input is refused, not misread', () => {
    assert.throws(() => codec.encode('a string'), /expected a helloworld\.v1\.HelloRequest message/)
    assert.throws(() => codec.encode(null), /got null/)
    assert.throws(() => codec.decode(Buffer.from([0x0a, 0xff, 0x01])))
  })

  test('JSON mapping: 64-bit integers as strings, enums by name, unknown fields refused', () => {
    const json = protobufJsonCodec(HelloRequestSchema)
    const text = Buffer.from(json.encode({ name: 'J', count: 5n, mood: Mood.HAPPY })).toString()
    assert.deepEqual(JSON.parse(text), { name: 'J', count: '5', mood: 'MOOD_HAPPY' })
    const back = json.decode(Buffer.from('{"name":"K","count":"7","mood":"MOOD_GRUMPY"}')) as HelloRequest
    assert.deepEqual([back.name, back.count, back.mood], ['K', 7n, Mood.GRUMPY])
    assert.equal((json.decode(new Uint8Array(0)) as HelloRequest).name, '')
    assert.throws(() => json.decode(Buffer.from('{"nope":1}')), /nope/)
    assert.throws(() => json.decode(Buffer.from('{"name":')))
  })
})

describe('protobuf payloads on the broker and on event streams', () => {
  test('broker: publish and subscribe with a protobuf codec; the handler gets messages', async () => {
    const broker = new MemoryBroker()
    const seen: unknown[] = []
    const codec = protobufCodec(HelloRequestSchema)
    const subscription = await subscribe(broker, 'greetings', async (m) => void seen.push(m), { codec })
    try {
      await publish(broker, 'greetings', { name: 'pb', count: 3n }, { codec })
      await publish(broker, 'greetings', { name: 'json' })
      await waitFor(() => seen.length === 2)
      const [first, second] = seen as [HelloRequest, unknown]
      assert.ok(isMessage(first, HelloRequestSchema))
      assert.deepEqual([first.name, first.count], ['pb', 3n])
      assert.deepEqual(second, { name: 'json' }, 'other content types still use their codecs')
    } finally {
      await subscription.unsubscribe()
      await broker.close()
    }
  })

  test('events: publish and consume with a protobuf codec; bytes it cannot decode are dead-lettered', async () => {
    const events = new MemoryEvents()
    const codec = protobufCodec(HelloRequestSchema)
    const controller = new AbortController()
    try {
      await events.publish('orders', { name: 'first', count: 1n }, { codec })
      await events.publish('orders', Buffer.from([0x0a, 0xff]), { contentType: 'application/protobuf' })
      await events.publish(
        'orders',
        toBinary(HelloRequestSchema, create(HelloRequestSchema, { name: 'third' })),
        {
          contentType: 'application/protobuf',
        },
      )
      const names: string[] = []
      for await (const event of events.consume<HelloRequest>('orders', {
        codec,
        offset: 1,
        signal: controller.signal,
      })) {
        assert.ok(isMessage(event.payload, HelloRequestSchema))
        names.push(event.payload.name)
        if (names.length === 2) break
      }
      assert.deepEqual(names, ['first', 'third'])
      const dead = await events.read('orders.dead')
      assert.equal(dead.length, 1)
      assert.match(dead[0]?.metadata['micro-dead-letter-reason'] ?? JSON.stringify(dead[0]), /undecodable/)
    } finally {
      controller.abort()
      await events.close()
    }
  })
})
