import assert from 'node:assert/strict'
import { PassThrough, Readable } from 'node:stream'
import { test } from 'node:test'
import type { ChatMessage } from '../bot.js'
import { boundedLines, ConsoleAdapter } from './console.js'

async function collect(input: NodeJS.ReadableStream, max: number): Promise<Array<string | undefined>> {
  const lines: Array<string | undefined> = []
  for await (const line of boundedLines(input, max)) lines.push(line)
  return lines
}

test('lines split on \\n and \\r\\n, across chunks, multi-byte characters intact', async () => {
  const bytes = Buffer.from('one\r\ntwo 🚀\nthree')
  // Every byte its own chunk: a character split across chunks is still whole.
  const chunks = [...bytes].map((b) => Buffer.from([b]))
  assert.deepEqual(await collect(Readable.from(chunks), 100), ['one', 'two 🚀', 'three'])
})

test('a line past the limit is dropped unread, and the next line is read as usual', async () => {
  const input = Readable.from(['ok\n', 'x'.repeat(50), 'y'.repeat(50), 'z'.repeat(50), '\nafter\n'])
  assert.deepEqual(await collect(input, 64), ['ok', undefined, 'after'])
})

test('the console adapter answers each line in order as console:<user>, and says when a line was dropped', async () => {
  const input = new PassThrough()
  const output = new PassThrough()
  let shown = ''
  output.on('data', (chunk: Buffer) => {
    shown += chunk.toString()
  })
  const seen: ChatMessage[] = []
  const adapter = new ConsoleAdapter({ input, output, user: 'dev', maxLineBytes: 32 })
  await adapter.start(async (message) => {
    seen.push(message)
    return { status: 'ok', blocks: [{ kind: 'text', text: `you said ${message.text}` }] }
  })
  input.write('first\n\n   \n')
  input.write(`${'a'.repeat(40)}\nsecond\n`)
  input.end()
  await adapter.done
  assert.deepEqual(
    seen.map((m) => [m.adapter, m.user, m.text]),
    [
      ['console', 'console:dev', 'first'],
      ['console', 'console:dev', 'second'],
    ],
  )
  assert.equal(
    shown,
    'you said first\n(that line was longer than 32 bytes and was dropped)\nyou said second\n',
  )
})
