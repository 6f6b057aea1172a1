import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTransport, transportFromEnv } from './from-env.js'

test('createTransport: micro by default and by name, nats and grpc by name', async () => {
  for (const [transport, name] of [
    [createTransport(), 'micro'],
    [createTransport(' MICRO '), 'micro'],
    [transportFromEnv({}), 'micro'],
    [createTransport('nats', 'nats://127.0.0.1:4222'), 'nats'],
    [transportFromEnv({ MICRO_TRANSPORT: 'nats', MICRO_TRANSPORT_ADDRESS: 'nats://127.0.0.1:4222' }), 'nats'],
    [createTransport('grpc'), 'grpc'],
    [transportFromEnv({ MICRO_TRANSPORT: 'GRPC' }), 'grpc'],
  ] as const) {
    assert.equal(transport.name, name)
    // Nothing was connected yet: closing is immediate and touches no server.
    await transport.close()
  }
})

test('createTransport: an unknown name is refused with the valid choices', () => {
  assert.throws(() => createTransport('http2'), {
    name: 'TypeError',
    message: 'unknown transport engine "http2"; known: micro, nats, grpc',
  })
  assert.throws(() => transportFromEnv({ MICRO_TRANSPORT: 'http2' }), {
    name: 'TypeError',
    message: 'MICRO_TRANSPORT=http2: unknown transport engine; known: micro, nats, grpc',
  })
})
