import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { sourceConformance } from './conformance.js'
import { memorySource } from './memory-source.js'

sourceConformance('memory', () => {
  const source = memorySource({ db: { url: 'postgres://a', pool: 5 }, tags: ['x'] })
  return {
    source,
    expected: { db: { url: 'postgres://a', pool: 5 }, tags: ['x'] },
    change: () => source.set('db.url', 'postgres://b'),
    changed: { db: { url: 'postgres://b', pool: 5 }, tags: ['x'] },
  }
})

describe('memory source', () => {
  test('copies what it is given and what it is set to', () => {
    const data = { a: { b: 1 } }
    const source = memorySource(data)
    data.a.b = 2
    const value = { c: [1] }
    source.set('x', value)
    value.c.push(2)
    assert.deepEqual(source.read(), { a: { b: 1 }, x: { c: [1] } })
  })

  test('set creates parents, replaces scalars on the way, and undefined deletes', () => {
    const source = memorySource({ a: 'scalar' })
    source.set('a.b.c', true)
    assert.deepEqual(source.read(), { a: { b: { c: true } } })
    source.set('a.b.c', undefined)
    assert.deepEqual(source.read(), { a: { b: {} } })
  })

  test('delete reports whether something was removed, and notifies only then', () => {
    const source = memorySource({ a: 1 })
    let calls = 0
    const unwatch = source.watch?.(
      () => calls++,
      () => undefined,
    )
    assert.equal(source.delete('missing.path'), false)
    assert.equal(calls, 0)
    assert.equal(source.delete('a'), true)
    assert.equal(calls, 1)
    unwatch?.()
  })

  test('the root can be replaced by an object only; bad paths are TypeErrors', () => {
    const source = memorySource({ a: 1 })
    source.set('', { b: 2 })
    assert.deepEqual(source.read(), { b: 2 })
    assert.throws(() => source.set('', 'text'), TypeError)
    assert.throws(() => source.set('a..b', 1), /empty segment/)
    assert.throws(() => source.set('__proto__.polluted', 1), /reserved key/)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})
