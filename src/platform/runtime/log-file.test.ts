import assert from 'node:assert/strict'
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { LineSplitter, MAX_LINE } from './lines.js'
import { LOG_FILE, ServiceLog } from './log-file.js'
import type { LogRecord } from './types.js'

const root = mkdtempSync(join(tmpdir(), 'micro-logs-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const fresh = () => join(root, `log-${++n}`)

function record(i: number, time = Date.UTC(2026, 0, 1, 0, 0, i)): LogRecord {
  return { time: new Date(time).toISOString(), instance: 1, pid: 42, stream: 'stdout', line: `line ${i}` }
}

async function all(iterable: AsyncIterable<LogRecord>): Promise<string[]> {
  const lines: string[] = []
  for await (const r of iterable) lines.push(r.line)
  return lines
}

describe('ServiceLog', () => {
  test('rotates by size and keeps at most maxFiles files, newest lines intact', async () => {
    const log = new ServiceLog(fresh(), { maxBytes: 1024, maxFiles: 3 })
    for (let i = 0; i < 200; i++) log.append(record(i))
    const files = readdirSync(log.dir).sort()
    assert.deepEqual(files, [LOG_FILE, `${LOG_FILE}.1`, `${LOG_FILE}.2`])
    for (const f of files) assert.ok(statSync(join(log.dir, f)).size <= 1024, f)
    const lines = await all(log.read())
    assert.equal(lines.at(-1), 'line 199')
    // What is kept is contiguous: rotation drops whole old files, never lines in between.
    const first = Number(lines[0]?.split(' ')[1])
    assert.deepEqual(
      lines,
      Array.from({ length: 200 - first }, (_, i) => `line ${first + i}`),
    )
    assert.ok(first > 0, 'the oldest lines went with the oldest file')
    log.close()
  })

  test('lines: the last N across rotated files; since: only records at or after it', async () => {
    const log = new ServiceLog(fresh(), { maxBytes: 1024, maxFiles: 4 })
    for (let i = 0; i < 40; i++) log.append(record(i))
    assert.deepEqual(await all(log.read({ lines: 3 })), ['line 37', 'line 38', 'line 39'])
    assert.deepEqual(await all(log.read({ lines: 0 })), [])
    const since = Date.UTC(2026, 0, 1, 0, 0, 35)
    assert.deepEqual(await all(log.read({ since })), ['line 35', 'line 36', 'line 37', 'line 38', 'line 39'])
    assert.deepEqual(await all(log.read({ since, lines: 2 })), ['line 38', 'line 39'])
    assert.deepEqual(await all(log.read({ since, lines: 100 })).then((l) => l.length), 5)
    log.close()
  })

  test('follow: past records, then new ones as they are written, none lost or repeated', async () => {
    const log = new ServiceLog(fresh(), { maxBytes: 1024, maxFiles: 2 })
    for (let i = 0; i < 3; i++) log.append(record(i))
    const abort = new AbortController()
    const seen: string[] = []
    const reading = (async () => {
      for await (const r of log.read({ follow: true, lines: 2, signal: abort.signal })) {
        seen.push(r.line)
        // Written while the reader is between records, rotating files under it.
        if (r.line === 'line 2') for (let i = 3; i < 60; i++) log.append(record(i))
        if (r.line === 'line 59') abort.abort()
      }
    })()
    await reading
    assert.deepEqual(
      seen,
      Array.from({ length: 59 }, (_, i) => `line ${i + 1}`),
    )
    log.close()
  })

  test('close ends a follower; remove deletes the files', async () => {
    const log = new ServiceLog(fresh())
    log.append(record(1))
    const reading = all(log.read({ follow: true }))
    log.close()
    assert.deepEqual(await reading, ['line 1'])
    log.remove()
    assert.throws(() => statSync(log.dir))
  })

  test('a torn or foreign line in a file is skipped, not fatal', async () => {
    const log = new ServiceLog(fresh())
    log.append(record(1))
    appendFileSync(join(log.dir, LOG_FILE), '{"time": "2026-01-01T00:00:0\nnot json at all\n')
    log.append(record(2))
    assert.deepEqual(await all(log.read()), ['line 1', 'line 2'])
    assert.deepEqual(await all(log.read({ lines: 5 })), ['line 1', 'line 2'])
    assert.match(readFileSync(join(log.dir, LOG_FILE), 'utf8'), /"line":"line 2"/)
    log.close()
  })

  test('limits below 1 KiB or 1 file are refused', () => {
    assert.throws(() => new ServiceLog(fresh(), { maxBytes: 10 }), /maxBytes/)
    assert.throws(() => new ServiceLog(fresh(), { maxFiles: 0 }), /maxFiles/)
  })
})

describe('LineSplitter', () => {
  test('splits across chunks, drops \\r, decodes UTF-8 split between chunks, caps long lines', () => {
    const lines: string[] = []
    const splitter = new LineSplitter((l) => lines.push(l))
    const euro = Buffer.from('€')
    splitter.push(Buffer.from('one\r\ntw'))
    splitter.push(Buffer.concat([Buffer.from('o '), euro.subarray(0, 1)]))
    splitter.push(Buffer.concat([euro.subarray(1), Buffer.from('\n\nlast')]))
    splitter.end()
    assert.deepEqual(lines, ['one', 'two €', '', 'last'])
    lines.length = 0
    splitter.push('x'.repeat(MAX_LINE * 2 + 5))
    splitter.end()
    assert.deepEqual(
      lines.map((l) => l.length),
      [MAX_LINE, MAX_LINE, 5],
    )
  })
})
