import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FailureReport, normalize } from './failure.js'
import { formatLogLine, Printer } from './output.js'

describe('FailureReport', () => {
  test('an error is printed once; the same error again is a one-line reminder; another one prints', () => {
    let text = ''
    const printer = new Printer({ write: (t) => (text += t) })
    printer.setNames(['orders'])
    const report = new FailureReport(printer, 'orders')
    report.report(
      'the new version did not start',
      '{"time":"2026-01-01T10:00:00.000Z","pid":41} boom\non 127.0.0.1:41203',
    )
    report.report(
      'the new version did not start',
      '{"time":"2026-01-01T10:00:07.000Z","pid":57} boom\non 127.0.0.1:39999',
    )
    report.report('the code does not compile', 'service.ts:3:1: error: Expected ")"')
    const lines = text.trim().split('\n')
    assert.deepEqual(lines, [
      'orders ! the new version did not start',
      '         {"time":"2026-01-01T10:00:00.000Z","pid":41} boom',
      '         on 127.0.0.1:41203',
      'orders - the new version did not start (the same error as above)',
      'orders ! the code does not compile',
      '         service.ts:3:1: error: Expected ")"',
    ])
    assert.equal(report.current, 'the code does not compile')
    report.clear()
    assert.equal(report.current, undefined)
  })

  test('normalize keeps what tells errors apart (messages, line numbers)', () => {
    assert.notEqual(normalize('service.ts:3:1: error'), normalize('service.ts:4:1: error'))
    assert.equal(normalize('exited in 120 ms'), normalize('exited in 93 ms'))
  })
})

describe('output', () => {
  test('pino lines are shortened to level, message and the fields the column does not say', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-01-01T10:00:00.000Z',
      service: 'orders',
      version: '1.0.0',
      msg: 'serving',
      address: '127.0.0.1:1',
      endpoints: 2,
    })
    assert.equal(formatLogLine(line), 'info  serving address=127.0.0.1:1 endpoints=2')
    assert.equal(
      formatLogLine('{"level":50,"msg":"failed","err":{"message":"x","stack":"Error: x\\n    at y"}}'),
      'error failed\nError: x\n    at y',
    )
    assert.equal(formatLogLine('plain text'), 'plain text')
    assert.equal(formatLogLine('{not json}'), '{not json}')
  })

  test('a service column, colors only when asked', () => {
    let text = ''
    const printer = new Printer({ write: (t) => (text += t), color: true })
    printer.setNames(['users', 'orders'])
    printer.output('users', 'stdout', 'hello', '[old]')
    const esc = String.fromCharCode(27)
    assert.ok(text.startsWith(`${esc}[36musers ${esc}[0m`), JSON.stringify(text))
    assert.match(text, /\[old\]/)
  })
})
