import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createTransport, transportFromEnv } from './from-env.js'

test('createTransport: micro by default and by name, nats by name', async () => {
  for (const [transport, name] of [
    [createTransport(), 'micro'],
    [createTransport(' MICRO '), 'micro'],
    [transportFromEnv({}), 'micro'],
    [createTransport('nats', 'nats://127.0.0.1:4222'), 'nats'],
    [transportFromEnv({ MICRO_TRANSPORT: 'nats', MICRO_TRANSPORT_ADDRESS: 'nats://127.0.0.1:4222' }), 'nats'],
  ] as const) {
    assert.equal(transport.name, name)
    // Nothing was connected yet: closing is immediate and touches no server.
    await transport.close()
  }
})

test('createTransport: an unknown name is refused with the valid choices', () => {
  assert.throws(() => createTransport('grpc'), {
    name: 'TypeError',
    message: 'unknown transport engine "grpc"; known: micro, nats',
  })
  assert.throws(() => transportFromEnv({ MICRO_TRANSPORT: 'grpc' }), {
    name: 'TypeError',
    message: 'MICRO_TRANSPORT=grpc: unknown transport engine; known: micro, nats',
  })
})
