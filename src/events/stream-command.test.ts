import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { UsageError } from '../cli/args.js'
import { streamCommand } from '../cli/commands/stream.js'
import { waitFor } from './conformance-kit.js'

const directory = mkdtempSync(join(tmpdir(), 'micro-stream-cli-'))
after(() => rmSync(directory, { recursive: true, force: true }))

/** Runs the command against the test directory; resolves with its exit code and output lines. */
async function run(args: string[], signal?: AbortSignal): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = []
  const code = await streamCommand([...args, '--events_address', directory], (t) => lines.push(t), signal)
  return { code, lines }
}

describe('micro stream', () => {
  test('publish prints the stored event; read prints the stream as JSON lines', async () => {
    const published = await run(['publish', 'cli.orders', '{"id":1}', '--metadata', 'source=cli'])
    assert.equal(published.code, 0)
    const record = JSON.parse(published.lines[0] ?? '')
    assert.equal(record.topic, 'cli.orders')
    assert.equal(record.sequence, 1)
    assert.deepEqual(record.metadata, { source: 'cli' })
    await run(['publish', 'cli.orders', '{"id":2}'])
    await run(['publish', 'cli.orders', '"three"'])
    const all = await run(['read', 'cli.orders'])
    assert.deepEqual(
      all.lines.map((l) => JSON.parse(l).payload),
      [{ id: 1 }, { id: 2 }, 'three'],
    )
    assert.equal(JSON.parse(all.lines[0] ?? '').id, record.id)
    const limited = await run(['read', 'cli.orders', '--offset', '2', '--limit', '1'])
    assert.deepEqual(
      limited.lines.map((l) => JSON.parse(l).payload),
      [{ id: 2 }],
    )
    const other = await run(['read', 'cli.orders', '--namespace', 'elsewhere'])
    assert.deepEqual(other.lines, [])
  })

  test('consume prints events as they come, acks them, and stops on the signal', async () => {
    const controller = new AbortController()
    const lines: string[] = []
    const consuming = streamCommand(
      ['consume', 'cli.live', '--group', 'tail', '--offset', '1', '--events_address', directory],
      (t) => lines.push(t),
      controller.signal,
    )
    await run(['publish', 'cli.live', '{"n":1}'])
    await run(['publish', 'cli.live', '{"n":2}'])
    await waitFor(() => lines.length === 2, 10_000, 'two events printed')
    controller.abort()
    assert.equal(await consuming, 0)
    assert.deepEqual(
      lines.map((l) => JSON.parse(l).payload),
      [{ n: 1 }, { n: 2 }],
    )
    // They were acked: the group resumes after them.
    await run(['publish', 'cli.live', '{"n":3}'])
    const again = new AbortController()
    const more: string[] = []
    const resumed = streamCommand(
      ['consume', 'cli.live', '--group', 'tail', '--events_address', directory],
      (t) => more.push(t),
      again.signal,
    )
    await waitFor(() => more.length === 1, 10_000, 'the next event printed')
    again.abort()
    await resumed
    assert.deepEqual(
      more.map((l) => JSON.parse(l).payload),
      [{ n: 3 }],
    )
  })

  test('MICRO_EVENTS and MICRO_EVENTS_ADDRESS choose the events when no flag does', async () => {
    const saved = { ...process.env }
    process.env.MICRO_EVENTS = 'file'
    process.env.MICRO_EVENTS_ADDRESS = directory
    try {
      const lines: string[] = []
      await streamCommand(['publish', 'cli.env', '{"env":true}'], (t) => lines.push(t))
      const read = await run(['read', 'cli.env'])
      assert.deepEqual(JSON.parse(read.lines[0] ?? '').payload, { env: true })
      process.env.MICRO_EVENTS = 'kafka'
      await assert.rejects(
        streamCommand(['read', 'cli.env'], () => {}),
        /unknown events engine "kafka"; known: file, memory, nats, redis/,
      )
    } finally {
      process.env.MICRO_EVENTS = saved.MICRO_EVENTS
      process.env.MICRO_EVENTS_ADDRESS = saved.MICRO_EVENTS_ADDRESS
      if (saved.MICRO_EVENTS === undefined) delete process.env.MICRO_EVENTS
      if (saved.MICRO_EVENTS_ADDRESS === undefined) delete process.env.MICRO_EVENTS_ADDRESS
    }
  })

  test('usage mistakes are UsageErrors naming the problem; --help prints the usage', async () => {
    const cases: [string[], RegExp][] = [
      [[], /publish, consume or read/],
      [['tail', 'x'], /not tail/],
      [['publish'], /needs a topic/],
      [['publish', 'x'], /JSON payload/],
      [['publish', 'x', '{oops'], /not valid JSON/],
      [['publish', 'x', '{}', '--metadata', 'novalue'], /key=value/],
      [['read', 'x', '--limit', '0'], /--limit/],
      [['read', 'x', '--offset', 'yesterday'], /--offset/],
      [['read', 'x', 'extra'], /too many arguments/],
      [['consume', 'x', '--offset', 'soon'], /--offset/],
      [['read', 'x', '--bogus'], /bogus/],
    ]
    for (const [args, pattern] of cases) {
      await assert.rejects(run(args), (e: unknown) => e instanceof UsageError && pattern.test(e.message))
    }
    const help = await run(['--help'])
    assert.equal(help.code, 0)
    assert.match(help.lines[0] ?? '', /micro stream publish <topic> <json>/)
    // A bad topic is the events' own 400, not a usage error.
    await assert.rejects(run(['publish', 'bad topic', '{}']), /bad topic/)
  })
})
