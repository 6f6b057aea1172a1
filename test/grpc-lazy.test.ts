import assert from 'node:assert/strict'
import { test } from 'node:test'
import { runNode } from './support/process.js'

// Start-up and RSS: a service that does not use gRPC loads neither node:http2 nor
// @bufbuild/protobuf; one on the gRPC transport loads both (so the check can see them).
test('node:http2 and @bufbuild/protobuf load only for gRPC', async () => {
  const plain = await runNode(['test/fixtures/lazy-grpc.mjs'], {
    MICRO_TRANSPORT: 'micro',
    MICRO_LOG_LEVEL: 'silent',
  })
  assert.equal(plain.code, 0, plain.stderr)
  assert.deepEqual(JSON.parse(plain.stdout.trim().split('\n').at(-1) as string), {
    http2: false,
    protobuf: false,
  })
  const grpc = await runNode(['test/fixtures/lazy-grpc.mjs'], {
    MICRO_TRANSPORT: 'grpc',
    MICRO_LOG_LEVEL: 'silent',
  })
  assert.equal(grpc.code, 0, grpc.stderr)
  assert.deepEqual(JSON.parse(grpc.stdout.trim().split('\n').at(-1) as string), {
    http2: true,
    protobuf: true,
  })
})
