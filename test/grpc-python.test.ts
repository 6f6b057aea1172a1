import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { PROTO_ROOT, serveGreeter, TESTDATA } from '../src/transport/grpc/testdata/serve.js'

/**
 * Interop with Python's grpcio (Debian's python3-grpcio, a C-core client nobody here
 * wrote), stubs generated now by grpc_tools.protoc (python3-grpc-tools) from the same
 * .proto files: every call kind, status codes, a deadline, health and reflection. Debian's
 * packages install for /usr/bin/python3, not the pyenv python3 on PATH. Without them this
 * skips locally and fails in CI (.ci/run installs them).
 */
const PYTHON = '/usr/bin/python3'

function hasGrpcio(): boolean {
  return spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools.protoc'], { encoding: 'utf8' }).status === 0
}

test('Python grpcio calls a micro-ts gRPC service: every call kind, errors, deadline, health, reflection', async (t) => {
  if (!hasGrpcio()) {
    if (process.env.CI === 'true') {
      assert.fail('python3-grpcio / python3-grpc-tools are missing: .ci/run installs them with apt-get')
    }
    t.skip('Python grpcio not installed (apt-get install python3-grpcio python3-grpc-tools)')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'micro-grpc-py-'))
  const { service } = await serveGreeter()
  try {
    // Flat copies: generated modules under grpc/... would shadow the grpc package itself.
    copyFileSync(join(TESTDATA, 'greeter.proto'), join(dir, 'greeter.proto'))
    copyFileSync(join(PROTO_ROOT, 'grpc/health/v1/health.proto'), join(dir, 'health.proto'))
    copyFileSync(
      join(PROTO_ROOT, 'grpc/reflection/v1alpha/reflection.proto'),
      join(dir, 'reflection_v1alpha.proto'),
    )
    const protoc = spawnSync(
      PYTHON,
      [
        '-m',
        'grpc_tools.protoc',
        `-I${dir}`,
        `--python_out=${dir}`,
        `--grpc_python_out=${dir}`,
        'greeter.proto',
        'health.proto',
        'reflection_v1alpha.proto',
      ],
      { encoding: 'utf8', cwd: dir },
    )
    assert.equal(protoc.status, 0, `grpc_tools.protoc failed: ${protoc.stderr}`)
    copyFileSync(new URL('./fixtures/grpc_client.py', import.meta.url), join(dir, 'grpc_client.py'))
    const { stdout } = await promisify(execFile)(PYTHON, ['grpc_client.py', service.address as string], {
      cwd: dir,
      timeout: 60_000,
    })
    const seen = JSON.parse(stdout)
    assert.deepEqual(seen.unary, { message: 'Hello Py', count: 2 ** 40 + 1, mood: 1 })
    assert.deepEqual(seen.server_stream, ['p 0', 'p 1', 'p 2'])
    assert.equal(seen.client_stream, 'a,b,c')
    assert.deepEqual(seen.bidi, ['Hi x', 'Hi y'])
    assert.deepEqual(seen.errors, {
      'fail:404': ['NOT_FOUND', 'asked to fail with fail:404'],
      'fail:503': ['UNAVAILABLE', 'asked to fail with fail:503'],
      throw: ['INTERNAL', 'a plain error'],
    })
    assert.equal(seen.deadline, 'DEADLINE_EXCEEDED')
    assert.equal(seen.health, 'SERVING')
    assert.ok(seen.reflection.includes('helloworld.v1.Greeter'), `reflection listed ${seen.reflection}`)
    assert.ok(seen.reflection.includes('grpc.health.v1.Health'))
  } finally {
    await service.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
