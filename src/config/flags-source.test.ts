import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sourceConformance } from './conformance.js'
import { flagsSource } from './flags-source.js'

sourceConformance('flags', () => ({
  source: flagsSource(['--db-url=postgres://x', '--port', '8080']),
  expected: { db: { url: 'postgres://x' }, port: '8080' },
}))

describe('flags source', () => {
  test('--a-b=x, --a.b x and --a_b x all set a.b', () => {
    assert.deepEqual(flagsSource(['--db-url=x']).read(), { db: { url: 'x' } })
    assert.deepEqual(flagsSource(['--db.url', 'x']).read(), { db: { url: 'x' } })
    assert.deepEqual(flagsSource(['--DB_URL', 'x']).read(), { db: { url: 'x' } })
  })

  test('a flag without a value is "true"; = keeps everything after the first =', () => {
    assert.deepEqual(flagsSource(['--verbose', '--level=a=b', '--dry-run']).read(), {
      verbose: 'true',
      level: 'a=b',
      dry: { run: 'true' },
    })
    assert.deepEqual(flagsSource(['--empty=']).read(), { empty: '' })
  })

  test('positionals, single-dash options and everything after -- are ignored', () => {
    assert.deepEqual(flagsSource(['serve', '-v', '--port', '1', '--', '--port', '2']).read(), { port: '1' })
  })

  test('a repeated flag gives a list', () => {
    assert.deepEqual(flagsSource(['--peer', 'a', '--peer=b', '--peer', 'c']).read(), {
      peer: ['a', 'b', 'c'],
    })
  })

  test('prototype keys never reach Object.prototype', () => {
    assert.deepEqual(flagsSource(['--__proto__.x=1', '--constructor=2', '--ok=3']).read(), {
      proto: { x: '1' },
      ok: '3',
    })
    assert.equal(({} as Record<string, unknown>).x, undefined)
  })

  test('reads process.argv after the script by default', () => {
    assert.equal(typeof flagsSource().read(), 'object')
  })
})
