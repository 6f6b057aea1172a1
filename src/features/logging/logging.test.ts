import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, test } from 'node:test'
import { pino } from 'pino'
import { fromPino } from './pino-logger.js'

function capture() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  return { lines, logger: pino({ level: 'trace', base: { service: 'svc', version: '1.0.0' } }, stream) }
}

describe('pino logger', () => {
  test('message first, fields second; children add fields', async () => {
    const { lines, logger } = capture()
    const log = fromPino(logger, { level: 'info' }).child({ kind: 'rpc' })
    log.info('hello', { user: 'ann' })
    log.warn('plain')
    await new Promise((r) => setImmediate(r))
    assert.equal(lines.length, 2)
    assert.deepEqual(
      lines.map((l) => [l.msg, l.service, l.version, l.kind, l.user]),
      [
        ['hello', 'svc', '1.0.0', 'rpc', 'ann'],
        ['plain', 'svc', '1.0.0', 'rpc', undefined],
      ],
    )
  })

  test('one level state rules every logger and child, changeable at run time', async () => {
    const { lines, logger } = capture()
    const state = { level: 'warn' as const } as { level: 'warn' | 'debug' | 'silent' }
    const root = fromPino(logger, state)
    const child = root.child({ kind: 'http' })
    child.info('dropped')
    child.warn('kept')
    state.level = 'debug'
    child.debug('now kept')
    root.trace('still dropped')
    state.level = 'silent'
    root.error('silent drops everything')
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['kept', 'now kept'],
    )
  })
})
