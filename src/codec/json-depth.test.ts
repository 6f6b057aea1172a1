import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { createJsonCodec, jsonCodec } from './json.js'
import { nestsDeeperThan } from './json-depth.js'

const bytes = (text: string) => Buffer.from(text)

/** The true nesting depth of a parsed value. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  const children = Object.values(value as object)
  return 1 + (children.length === 0 ? 0 : Math.max(...children.map(depthOf)))
}

/** A random JSON value whose strings are full of brackets, quotes and backslashes. */
function randomValue(depth: number, random: () => number): unknown {
  const r = random()
  if (depth === 0 || r < 0.3) {
    const pieces = ['[', ']', '{', '}', '"', '\\', 'a', '\\"', '\u00e9']
    return Array.from(
      { length: Math.floor(random() * 6) },
      () => pieces[Math.floor(random() * pieces.length)],
    ).join('')
  }
  const size = 1 + Math.floor(random() * 3)
  if (r < 0.65) return Array.from({ length: size }, () => randomValue(depth - 1, random))
  return Object.fromEntries(
    Array.from({ length: size }, (_, i) => [`k${i}[{"`, randomValue(depth - 1, random)]),
  )
}

describe('JSON depth check', () => {
  test('agrees with the real depth of random values, strings full of brackets and escapes', () => {
    let seed = 42
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    for (let i = 0; i < 500; i++) {
      const value = randomValue(8, random)
      const text = bytes(JSON.stringify(value))
      const depth = depthOf(value)
      for (const limit of [0, 1, 2, depth - 1, depth, depth + 1]) {
        if (limit < 0) continue
        assert.equal(nestsDeeperThan(text, limit), depth > limit, `${text} at limit ${limit}`)
      }
    }
  })

  test('short text is never scanned; unterminated strings and stray closers do not confuse it', () => {
    assert.equal(nestsDeeperThan(bytes('[[['), 3), false)
    assert.equal(nestsDeeperThan(bytes('[[[['), 3), true)
    assert.equal(nestsDeeperThan(bytes(`"${'['.repeat(50)}`), 3), false)
    assert.equal(nestsDeeperThan(bytes(`]]]]]]${'['.repeat(9)}`), 3), true)
    assert.equal(nestsDeeperThan(bytes(`["\\\\"${'['.repeat(5)}]`), 3), true)
  })

  test('the codec refuses deep text before parsing; a limit can be raised or removed', () => {
    const deep = bytes(`${'['.repeat(200)}${']'.repeat(200)}`)
    assert.throws(() => jsonCodec.decode(deep), /JSON nested deeper than 128 levels/)
    assert.equal(depthOf(createJsonCodec({ maxDepth: 256 }).decode(deep)), 200)
    assert.equal(depthOf(createJsonCodec({ maxDepth: Number.POSITIVE_INFINITY }).decode(deep)), 200)
    assert.throws(
      () => createJsonCodec({ maxDepth: 4 }).decode(bytes('{"a":{"b":{"c":{"d":{}}}}}')),
      /deeper than 4/,
    )
  })
})
