import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import * as grpc from '@grpc/grpc-js'
import * as loader from '@grpc/proto-loader'
import { type Child, runNode, spawnNode } from './support/process.js'

// examples/kinds/grpc runs as its own process through `micro run`; a gRPC client of another
// library (@grpc/grpc-js with its own stubs) and `micro call --address grpc://...` call it.

type Any = any
const children: Child[] = []
after(() => {
  for (const c of children) c.process.kill('SIGKILL')
})

test('examples/kinds/grpc: served over gRPC, called by grpc-js and micro call, stops on SIGTERM', async () => {
  const child = spawnNode(['dist/cli/main.js', 'run', '--inline', 'examples/kinds/grpc'], {
    MICRO_REGISTRY: 'memory',
  })
  children.push(child)
  const address = (await child.waitFor(/hello 1\.0\.0 is running: grpc on (\S+)/, 20_000))[1] as string
  const pkg = grpc.loadPackageDefinition(
    loader.loadSync('hello.proto', { includeDirs: ['examples/kinds/grpc/proto'], keepCase: true }),
  ) as Any
  const hello = new pkg.hello.v1.Hello(address, grpc.credentials.createInsecure())
  try {
    const reply = await new Promise<Any>((resolve, reject) =>
      hello.SayHello({ name: 'grpc-js' }, (e: Any, r: Any) => (e ? reject(e) : resolve(r))),
    )
    assert.equal(reply.message, 'Hello grpc-js')
    const counted = await new Promise<number[]>((resolve, reject) => {
      const out: number[] = []
      const call = hello.Count({ up_to: 3 })
      call.on('data', (m: Any) => out.push(m.n))
      call.on('end', () => resolve(out))
      call.on('error', reject)
    })
    assert.deepEqual(counted, [1, 2, 3])
  } finally {
    hello.close()
  }
  const cli = await runNode(
    [
      'dist/cli/main.js',
      'call',
      'hello',
      'Hello.SayHello',
      '{"name":"cli"}',
      '--address',
      `grpc://${address}`,
    ],
    { MICRO_REGISTRY: 'memory' },
  )
  assert.equal(cli.code, 0, cli.stderr)
  assert.deepEqual(JSON.parse(cli.stdout), { message: 'Hello cli' })
  const stream = await runNode(
    [
      'dist/cli/main.js',
      'call',
      'hello',
      'Hello.Count',
      '[{"upTo":2}]',
      '--stream',
      '--address',
      `grpc://${address}`,
    ],
    { MICRO_REGISTRY: 'memory' },
  )
  assert.equal(stream.code, 0, stream.stderr)
  assert.deepEqual(
    stream.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    [{ n: 1 }, { n: 2 }],
  )
  child.process.kill('SIGTERM')
  assert.equal(await child.exited, 0)
})
