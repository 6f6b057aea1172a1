import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sourceConformance } from './conformance.js'
import { flags } from './flags-source.js'

sourceConformance('flags', () => ({
  source: flags(['--db-url=postgres://x', '--port', '8080']),
  expected: { db: { url: 'postgres://x' }, port: '8080' },
}))

describe('flags source', () => {
  test('--a-b=x, --a.b x and --a_b x all set a.b', () => {
    assert.deepEqual(flags(['--db-url=x']).read(), { db: { url: 'x' } })
    assert.deepEqual(flags(['--db.url', 'x']).read(), { db: { url: 'x' } })
    assert.deepEqual(flags(['--DB_URL', 'x']).read(), { db: { url: 'x' } })
  })

  test('a flag without a value is "true"; = keeps everything after the first =', () => {
    assert.deepEqual(flags(['--verbose', '--level=a=b', '--dry-run']).read(), {
      verbose: 'true',
      level: 'a=b',
      dry: { run: 'true' },
    })
    assert.deepEqual(flags(['--empty=']).read(), { empty: '' })
  })

  test('positionals, single-dash options and everything after -- are ignored', () => {
    assert.deepEqual(flags(['serve', '-v', '--port', '1', '--', '--port', '2']).read(), { port: '1' })
  })

  test('a repeated flag gives a list', () => {
    assert.deepEqual(flags(['--peer', 'a', '--peer=b', '--peer', 'c']).read(), { peer: ['a', 'b', 'c'] })
  })

  test('prototype keys never reach Object.prototype', () => {
    assert.deepEqual(flags(['--__proto__.x=1', '--constructor=2', '--ok=3']).read(), {
      proto: { x: '1' },
      ok: '3',
    })
    assert.equal(({} as Record<string, unknown>).x, undefined)
  })

  test('reads process.argv after the script by default', () => {
    assert.equal(typeof flags().read(), 'object')
  })
})
