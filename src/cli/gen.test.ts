import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { UsageError } from './args.js'
import { genCommand } from './commands/gen.js'

const TESTDATA = fileURLToPath(new URL('../transport/grpc/testdata/', import.meta.url))
const dirs: string[] = []
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'micro-gen-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('micro gen proto', () => {
  test('writes protoc-gen-es output and the handler and client types of each service', async () => {
    const dir = scratch()
    copyFileSync(join(TESTDATA, 'greeter.proto'), join(dir, 'greeter.proto'))
    const lines: string[] = []
    assert.equal(await genCommand(['proto', dir], (t) => lines.push(t)), 0)
    // The same code the tests use (generated the same way, committed).
    assert.equal(
      readFileSync(join(dir, 'gen/greeter_pb.ts'), 'utf8'),
      readFileSync(join(TESTDATA, 'gen/greeter_pb.ts'), 'utf8'),
    )
    const aliases = readFileSync(join(dir, 'gen/greeter_micro.ts'), 'utf8')
    assert.match(aliases, /import type \{ Greeter \} from '\.\/greeter_pb\.js'/)
    assert.match(aliases, /export type GreeterHandler = GrpcHandler<typeof Greeter>/)
    assert.match(aliases, /export type GreeterClient = GrpcClient<typeof Greeter>/)
    assert.match(lines.join('\n'), /greeter_micro\.ts/)
  })

  test('a buf.gen.yaml in the folder is used as it is', async () => {
    const dir = scratch()
    copyFileSync(join(TESTDATA, 'greeter.proto'), join(dir, 'greeter.proto'))
    writeFileSync(
      join(dir, 'buf.gen.yaml'),
      'version: v2\nplugins:\n  - local: protoc-gen-es\n    out: custom\n    opt: target=js+dts\n',
    )
    assert.equal(await genCommand(['proto', dir], () => {}), 0)
    assert.match(readFileSync(join(dir, 'custom/greeter_pb.js'), 'utf8'), /serviceDesc/)
    assert.match(readFileSync(join(dir, 'custom/greeter_pb.d.ts'), 'utf8'), /GenService/)
  })

  test('bad input: unknown target, missing folder, a .proto that does not compile', async () => {
    await assert.rejects(
      genCommand(['openapi'], () => {}),
      UsageError,
    )
    await assert.rejects(
      genCommand(['proto', join(scratch(), 'nope')], () => {}),
      /does not exist/,
    )
    const dir = scratch()
    writeFileSync(join(dir, 'broken.proto'), 'syntax = "proto3";\nmessage X { string a = ; }\n')
    await assert.rejects(
      genCommand(['proto', dir], () => {}),
      /broken\.proto:2/,
    )
  })
})
