import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { PassThrough } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import { MicroError } from '../errors/errors.js'
import { createLogger } from '../logger/logger.js'
import { sharedMemoryRegistry } from '../registry/memory-shared.js'
import { createService, type Service } from '../service/service.js'
import { UsageError } from './args.js'
import { callCommand } from './commands/call.js'

// `micro call` against a real service over TCP, found through the process's memory registry.

class Echo {
  async Hello(req: { name: string }) {
    return { message: `Hello ${req.name}` }
  }
  async *Chat(input: AsyncIterable<{ name: string }>) {
    for await (const req of input) {
      if (req.name === 'boom') throw new MicroError('echo', 'no booms here', 422)
      yield { message: `Hello ${req.name}` }
    }
  }
}

const namespace = `cli-${randomUUID().slice(0, 8)}`
let service: Service

async function call(args: string[], stdin?: NodeJS.ReadableStream) {
  const lines: string[] = []
  const code = await callCommand(
    [...args, '--registry', 'memory', '--namespace', namespace],
    (t) => lines.push(t),
    {
      stdin,
    },
  )
  return { code, lines }
}

describe('micro call', () => {
  before(async () => {
    service = createService({
      name: 'echo',
      namespace,
      registry: sharedMemoryRegistry(),
      logger: createLogger({ level: 'silent' }),
      handleSignals: false,
    })
    service.handle(new Echo())
    await service.start()
  })
  after(() => service.stop())

  test('a unary endpoint: one reply, indented JSON', async () => {
    const { code, lines } = await call(['echo', 'Echo.Hello', '{"name":"Ann"}'])
    assert.equal(code, 0)
    assert.deepEqual(lines, [JSON.stringify({ message: 'Hello Ann' }, null, 2)])
  })

  test('a streaming endpoint: each element of a JSON array is a message, each reply one line', async () => {
    const { code, lines } = await call(['echo', 'Echo.Chat', '[{"name":"A"},{"name":"B"},{"name":"C"}]'])
    assert.equal(code, 0)
    assert.deepEqual(lines, ['{"message":"Hello A"}', '{"message":"Hello B"}', '{"message":"Hello C"}'])
    const single = await call(['echo', 'Echo.Chat', '{"name":"D"}'])
    assert.deepEqual(single.lines, ['{"message":"Hello D"}'], 'a single value is one message')
  })

  test("a streaming endpoint with '-': standard input lines are sent as they arrive", async () => {
    const stdin = new PassThrough()
    const lines: string[] = []
    let replied: () => void = () => {}
    const first = new Promise<void>((resolve) => {
      replied = resolve
    })
    const done = callCommand(
      ['echo', 'Echo.Chat', '-', '--registry', 'memory', '--namespace', namespace],
      (t) => {
        lines.push(t)
        replied()
      },
      { stdin },
    )
    stdin.write('{"name":"A"}\n')
    await first // the first reply comes while standard input is still open
    assert.deepEqual(lines, ['{"message":"Hello A"}'])
    stdin.end('\n  \r\n{"name":"B"}\r\n')
    assert.equal(await done, 0)
    assert.deepEqual(lines, ['{"message":"Hello A"}', '{"message":"Hello B"}'])
  })

  test('a bad input line cancels the stream with a usage error naming the line; the service serves on', async () => {
    const stdin = new PassThrough()
    stdin.end('{"name":"A"}\n{name: B}\n{"name":"C"}\n')
    await assert.rejects(
      call(['echo', 'Echo.Chat', '-'], stdin),
      (e: unknown) => e instanceof UsageError && /request on line 2 is not valid JSON/.test(e.message),
    )
    const after = await call(['echo', 'Echo.Chat', '[{"name":"E"}]'])
    assert.deepEqual(after.lines, ['{"message":"Hello E"}'])
  })

  test("a stream the server fails rejects with the server's error, after the replies before it", async () => {
    const lines: string[] = []
    await assert.rejects(
      callCommand(
        [
          'echo',
          'Echo.Chat',
          '[{"name":"A"},{"name":"boom"},{"name":"C"}]',
          '--registry',
          'memory',
          '--namespace',
          namespace,
        ],
        (t) => lines.push(t),
      ),
      (e: unknown) => e instanceof MicroError && e.code === 422 && e.detail === 'no booms here',
    )
    assert.deepEqual(lines, ['{"message":"Hello A"}'])
  })

  test('--stream with --address streams without asking the registry', async () => {
    const { code, lines } = await call([
      'echo',
      'Echo.Chat',
      '[{"name":"X"},{"name":"Y"}]',
      '--address',
      service.address as string,
      '--stream',
    ])
    assert.equal(code, 0)
    assert.deepEqual(lines, ['{"message":"Hello X"}', '{"message":"Hello Y"}'])
  })

  test('a request that is not JSON is refused before any lookup', async () => {
    await assert.rejects(
      call(['nosuch', 'X.Y', '[{"a":1},']),
      (e: unknown) => e instanceof UsageError && /request is not valid JSON/.test(e.message),
    )
  })
})
